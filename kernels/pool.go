package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spinFor is how long an idle worker (or the waiting caller) polls before it
// parks. Decode alternates matmuls with a few microseconds of serial work
// (norms, attention), so a short spin keeps the next dispatch cheap, while
// parking soon afterwards leaves the CPU to others on a small VM.
const spinFor = 50 * time.Microsecond

// task is one parallel job; the kernels implement it with structs owned by
// the Pool so that a dispatch allocates nothing.
type task interface {
	run(chunk, lo, hi int)
}

// funcTask adapts the user function of Pool.Run or Pool.RunChunks.
type funcTask struct {
	fn  func(lo, hi int)
	cfn func(chunk, lo, hi int)
}

func (t *funcTask) run(chunk, lo, hi int) {
	if t.cfn != nil {
		t.cfn(chunk, lo, hi)
		return
	}
	t.fn(lo, hi)
}

// Worker states for the park/wake handshake.
const (
	stateRunning int32 = iota
	stateParked
)

type worker struct {
	state atomic.Int32
	wake  chan struct{} // capacity 1: one token per wake-up
	_     [64]byte      // keep workers' hot fields on separate cache lines
}

// Pool runs a function over a range split into Threads() contiguous chunks:
// chunk 0 on the calling goroutine and the others on long-lived workers. The
// split is static (equal sizes), which suits matmuls whose rows cost the same.
//
// A Pool serves one dispatch at a time; concurrent calls are serialized, and
// a task must not call back into its own Pool. A nil *Pool is valid and runs
// everything on the caller.
type Pool struct {
	mu      sync.Mutex
	threads int
	workers []worker

	gen     atomic.Uint64 // bumped once per dispatch
	closed  atomic.Bool
	pending atomic.Int32 // workers still running the current dispatch

	waiting atomic.Int32 // caller parked on done (stateParked) or not
	done    chan struct{}

	// The current dispatch, published by the gen increment.
	job task
	n   int

	fn  funcTask
	scr scratch
	wg  sync.WaitGroup
}

// NewPool starts threads-1 workers; threads <= 0 means runtime.NumCPU().
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, workers: make([]worker, threads-1), done: make(chan struct{}, 1)}
	p.wg.Add(len(p.workers))
	for i := range p.workers {
		p.workers[i].wake = make(chan struct{}, 1)
		go p.loop(i)
	}
	return p
}

// Threads is the number of chunks a dispatch is split into (1 for a nil Pool).
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Close stops the workers and waits for them. The Pool must not be used after.
func (p *Pool) Close() {
	if p == nil || p.closed.Swap(true) {
		return
	}
	p.mu.Lock()
	p.gen.Add(1)
	for i := range p.workers {
		p.wakeWorker(i)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Run calls fn(lo, hi) over Threads() contiguous chunks of [0, n) in
// parallel, the first on the calling goroutine, and returns when all are
// done. Empty chunks are skipped. Run itself does not allocate (a closure
// that captures variables may be heap allocated by the compiler at the call
// site).
func (p *Pool) Run(n int, fn func(lo, hi int)) {
	if p == nil {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	p.mu.Lock()
	p.fn.fn = fn
	p.dispatch(n, &p.fn)
	p.fn.fn = nil
	p.mu.Unlock()
}

// RunChunks is Run with the index (0 to Threads()-1) of the chunk passed to
// fn, so that each concurrent call can use its own scratch memory.
func (p *Pool) RunChunks(n int, fn func(chunk, lo, hi int)) {
	if p == nil {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	p.mu.Lock()
	p.fn.cfn = fn
	p.dispatch(n, &p.fn)
	p.fn.cfn = nil
	p.mu.Unlock()
}

// runTask is Run for the package's own kernels; t is usually a field of p
// (or of p.scr) so that nothing escapes per call. The caller holds no lock.
func (p *Pool) runTask(n int, t task) {
	if p == nil {
		if n > 0 {
			t.run(0, 0, n)
		}
		return
	}
	p.mu.Lock()
	p.dispatch(n, t)
	p.mu.Unlock()
}

// chunk is the static split: chunk i of t over [0, n).
func chunk(n, t, i int) (lo, hi int) {
	return n * i / t, n * (i + 1) / t
}

// dispatch runs t over [0, n) on all threads; p.mu is held.
func (p *Pool) dispatch(n int, t task) {
	if n <= 0 {
		return
	}
	if p.threads == 1 || n == 1 || p.closed.Load() {
		t.run(0, 0, n)
		return
	}
	p.job, p.n = t, n
	p.pending.Store(int32(len(p.workers)))
	p.gen.Add(1)
	for i := range p.workers {
		p.wakeWorker(i)
	}
	if lo, hi := chunk(n, p.threads, 0); lo < hi {
		t.run(0, lo, hi)
	}
	p.wait()
	p.job = nil
}

// wakeWorker hands a wake token to worker i if it has parked.
func (p *Pool) wakeWorker(i int) {
	w := &p.workers[i]
	if w.state.CompareAndSwap(stateParked, stateRunning) {
		w.wake <- struct{}{}
	}
}

// wait returns when every worker has finished the current dispatch.
func (p *Pool) wait() {
	for {
		if spinUntil(func() bool { return p.pending.Load() == 0 }) {
			return
		}
		p.waiting.Store(stateParked)
		if p.pending.Load() == 0 {
			if p.waiting.CompareAndSwap(stateParked, stateRunning) {
				return
			}
			// The last worker claimed the wake-up: consume its token.
		}
		<-p.done
		if p.pending.Load() == 0 {
			return
		}
		// The token came from the last worker of the previous dispatch,
		// preempted between its final pending decrement and its claim of
		// the wake-up, which it then took from this dispatch's park:
		// returning now would read results still being computed.
	}
}

// finish is called by a worker after its chunk.
func (p *Pool) finish() {
	if p.pending.Add(-1) == 0 && p.waiting.CompareAndSwap(stateParked, stateRunning) {
		p.done <- struct{}{}
	}
}

// loop is the body of worker i (chunk i+1 of every dispatch).
func (p *Pool) loop(i int) {
	defer p.wg.Done()
	w := &p.workers[i]
	var seen uint64 // the generation at NewPool, whenever this goroutine starts
	for {
		if !spinUntil(func() bool { return p.gen.Load() != seen }) {
			w.state.Store(stateParked)
			if p.gen.Load() == seen || !w.state.CompareAndSwap(stateParked, stateRunning) {
				// Either nothing new yet (a dispatcher will claim us and send a
				// token) or a dispatcher already claimed us: both send one.
				<-w.wake
			}
			// A dispatcher that bumped gen, was descheduled, and claimed us
			// only after we had already run its chunk and parked leaves a
			// stale token: waking on it with no new generation must not run
			// (or finish) the old job a second time.
			if p.gen.Load() == seen && !p.closed.Load() {
				continue
			}
		}
		seen = p.gen.Load()
		if p.closed.Load() {
			return
		}
		if lo, hi := chunk(p.n, p.threads, i+1); lo < hi {
			p.job.run(i+1, lo, hi)
		}
		p.finish()
	}
}

// spinUntil polls cond for about spinFor and reports whether it became true.
func spinUntil(cond func() bool) bool {
	var start time.Time
	for i := 0; ; i++ {
		if cond() {
			return true
		}
		if i&255 == 255 {
			if start.IsZero() {
				start = time.Now()
			} else if time.Since(start) > spinFor {
				return false
			}
			runtime.Gosched()
		}
	}
}
