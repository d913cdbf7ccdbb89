package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/bitnet-go/bitnet/gguf"
)

// DefaultMemoryBudget bounds the bytes of prepared tensors and conversion
// scratch in flight when Options.MemoryBudget is zero. With two workers it
// keeps both busy on the largest projections of a 100B model.
const DefaultMemoryBudget = 256 << 20

// job produces one GGUF tensor. Exactly one of prepare and stream is set.
//
// prepare runs on a worker ahead of the writer and returns the finished
// bytes; it is for tensors that need a whole-tensor pass (ternarization,
// TL tiling). cost is the memory it needs while running (scratch included).
//
// stream writes the tensor directly while the file is being written, chunk
// by chunk, converting up to par chunks at once; it is for tensors
// converted element-wise (embeddings, norms), which may be far larger than
// the memory budget.
type job struct {
	name    string
	typ     gguf.Type
	shape   []uint64
	cost    int64
	prepare func(ctx context.Context, sc *scratch) ([]byte, error)
	stream  func(ctx context.Context, w io.Writer, par int) error
}

// scratch is a worker's reusable buffers, so that converting hundreds of
// tensors does not leave hundreds of dead buffers for the GC to find.
type scratch struct {
	f32   []float32
	codes []int8
	perm  []int8
	pool  *bufferPool
}

// out returns a buffer of n bytes for a prepared tensor's result; the
// writer hands it back to the pool once written.
func (s *scratch) out(n int) []byte { return s.pool.get(n) }

// bufferPool recycles the result buffers of prepared tensors. The tensors
// of a model come in a handful of sizes that repeat every layer, so a
// finished buffer almost always fits a later tensor; without reuse, each
// would be garbage until the next GC, and the heap would grow to twice the
// data in flight.
type bufferPool struct {
	mu    sync.Mutex
	free  [][]byte
	bytes int64 // capacity held in free
	limit int64
}

func (p *bufferPool) get(n int) []byte {
	p.mu.Lock()
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		p.free = append(p.free[:best], p.free[best+1:]...)
		p.bytes -= int64(cap(b))
		p.mu.Unlock()
		return b[:n]
	}
	p.mu.Unlock()
	return make([]byte, n)
}

func (p *bufferPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if int64(cap(b)) > p.limit {
		return
	}
	p.free = append(p.free, b)
	p.bytes += int64(cap(b))
	for p.bytes > p.limit {
		// Drop the oldest buffers first.
		p.bytes -= int64(cap(p.free[0]))
		p.free = p.free[1:]
	}
}

func (s *scratch) floats(n int) []float32 {
	if cap(s.f32) < n {
		s.f32 = make([]float32, n)
	}
	return s.f32[:n]
}

func (s *scratch) int8s(n int) []int8 {
	if cap(s.codes) < n {
		s.codes = make([]int8, n)
	}
	return s.codes[:n]
}

func (s *scratch) permBuf(n int) []int8 {
	if cap(s.perm) < n {
		s.perm = make([]int8, n)
	}
	return s.perm[:n]
}

// pipelineOptions are the knobs shared by Convert and the dummy writers.
type pipelineOptions struct {
	workers  int
	budget   int64
	progress func(done, total int64)
}

// writeJobs writes a GGUF whose tensors come from jobs. Prepared tensors
// are computed in parallel, in file order, never holding more than the
// budget; the writer consumes them in order, so memory stays bounded
// whatever the model size. The file appears at path only if every tensor
// was written (gguf.WriteFile is atomic).
func writeJobs(ctx context.Context, path string, kv []gguf.KV, jobs []job, po pipelineOptions) error {
	workers := po.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	budget := po.budget
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	var total int64
	for _, j := range jobs {
		n, err := gguf.TensorBytes(j.typ, j.shape)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", j.name, err)
		}
		total += int64(n)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	mem := semaphore.NewWeighted(budget)
	bufs := &bufferPool{limit: budget}
	pool := make(chan *scratch, workers)
	for range workers {
		pool <- &scratch{pool: bufs}
	}
	type result struct {
		data []byte
		held int64
	}
	results := make([]chan result, len(jobs))
	for i := range jobs {
		results[i] = make(chan result, 1)
	}

	// The dispatcher starts prepared jobs in file order. The semaphore is
	// FIFO, so job i always holds its memory before job i+1 asks for any:
	// the writer, waiting on job i, can never be starved by later jobs.
	g.Go(func() error {
		for i := range jobs {
			j := &jobs[i]
			if j.prepare == nil {
				continue
			}
			cost := min(max(j.cost, 1), budget)
			if err := mem.Acquire(gctx, cost); err != nil {
				return err
			}
			var sc *scratch
			select {
			case sc = <-pool:
			case <-gctx.Done():
				mem.Release(cost)
				return gctx.Err()
			}
			g.Go(func() error {
				data, err := j.prepare(gctx, sc)
				pool <- sc
				if err != nil {
					mem.Release(cost)
					return fmt.Errorf("tensor %s: %w", j.name, err)
				}
				// Keep only what the finished bytes occupy until written.
				held := min(int64(len(data)), cost)
				mem.Release(cost - held)
				results[i] <- result{data, held}
				return nil
			})
		}
		return nil
	})

	var done int64
	report := func(n int64) {
		done += n
		if po.progress != nil {
			po.progress(done, total)
		}
	}
	specs := make([]gguf.TensorSpec, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		specs[i] = gguf.TensorSpec{Name: j.name, Type: j.typ, Shape: j.shape}
		if j.prepare == nil {
			specs[i].Write = func(w io.Writer) error {
				cw := &countingWriter{w: w, report: report}
				// gguf names the tensor in its error.
				return j.stream(gctx, cw, workers)
			}
			continue
		}
		specs[i].Write = func(w io.Writer) error {
			select {
			case r := <-results[i]:
				_, err := w.Write(r.data)
				bufs.put(r.data)
				mem.Release(r.held)
				report(int64(len(r.data)))
				return err
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	}
	werr := gguf.WriteFile(path, kv, specs)
	cancel()
	gerr := g.Wait()
	if werr == nil {
		return nil
	}
	// A job failure cancels the writer; report the job's error, not the
	// cancellation it caused.
	if gerr != nil && !errors.Is(gerr, context.Canceled) {
		return gerr
	}
	return werr
}

// countingWriter reports progress as a streamed tensor is written.
type countingWriter struct {
	w      io.Writer
	report func(int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.report(int64(n))
	return n, err
}
