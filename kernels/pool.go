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
// chunk 0 on the calling goroutine and the others on long-lived workers. Run
// and RunChunks split statically (equal sizes, one call per chunk). The
// package's matmuls start from the same static split but even out its end
// by work stealing (runTask): each thread claims parts of its own chunk
// from the front and, once that is empty, takes the back half of the
// largest chunk left. Equal rows do not take equal time when two cores
// share the memory bus: with the static split alone, one thread of a 2B-4T
// decode token waited on the other for 1.7 ms of its 37 ms, 5 to 14 µs per
// matmul, and stealing made decode 1.2 % faster.
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
	job   task
	n     int
	steal bool // the dispatch is a runTask: threads claim grains of shares
	grain int
	// shares[i] is the unclaimed part of thread i's chunk of a stealing
	// dispatch, as packRange; only its owner claims from the front and
	// only thieves shorten it from the back, so a compare-and-swap on the
	// pair always acts on exactly the units it read.
	shares []share

	// async is set while an asynchronous job (see startAsync) may still be
	// running on the workers; abort asks it to stop. ahead is set from an
	// Upcoming call to the next matmul dispatch: the dispatches in between
	// stop p.scr.upcoming and start it again after them.
	async bool
	ahead bool
	abort atomic.Bool

	fn  funcTask
	scr scratch
	wg  sync.WaitGroup
}

// NewPool starts threads-1 workers; threads <= 0 means runtime.NumCPU().
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads, workers: make([]worker, threads-1), shares: make([]share, threads), done: make(chan struct{}, 1)}
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
	p.abort.Store(true)
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
	p.dispatch(n, &p.fn, 0)
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
	p.dispatch(n, &p.fn, 0)
	p.fn.cfn = nil
	p.mu.Unlock()
}

// runTask runs t over [0, n) with work stealing, calling t.run(i, lo, hi)
// on thread i for claims of at least grain units (or what is left). The
// package's kernels use it, with t a field of p (or of p.scr) so that
// nothing escapes per call. The caller holds no lock.
func (p *Pool) runTask(n, grain int, t task) {
	if p == nil {
		if n > 0 {
			t.run(0, 0, n)
		}
		return
	}
	p.mu.Lock()
	p.dispatch(n, t, max(1, grain))
	p.mu.Unlock()
}

// stealBytes is the smallest claim of a decode matmul in weight bytes:
// about 1 µs of a core's share of the bus, which bounds how long one
// thread may wait on another at the end of a dispatch.
const stealBytes = 16 << 10

// stealGrain is the smallest claim, in units of unitBytes weight bytes
// each, for a matmul over n tokens: stealBytes for one token and fewer
// bytes for more tokens, whose rows cost more arithmetic each.
func stealGrain(unitBytes, n int) int {
	return max(1, stealBytes/(max(1, unitBytes)*max(1, (n+3)/4)))
}

// share holds one thread's unclaimed units, alone on its cache line: the
// owner's claims then stay in its own core's cache until a thief comes.
type share struct {
	r atomic.Uint64
	_ [56]byte
}

// packRange packs [lo, hi) into a share's word; n < 2³² (a unit is a group
// of rows).
func packRange(lo, hi int) uint64 { return uint64(lo) | uint64(hi)<<32 }

func unpackRange(v uint64) (lo, hi int) { return int(uint32(v)), int(v >> 32) }

// runShare is thread self's part of a stealing dispatch: its own share,
// grain by grain and in order (so its weights still stream), then the back
// halves of others until every share is empty.
func (p *Pool) runShare(self int) {
	own := &p.shares[self].r
	for {
		v := own.Load()
		lo, hi := unpackRange(v)
		if lo < hi {
			// A quarter of what is left: few claims, since each costs a
			// compare-and-swap and a kernel call (fixed 32 KiB claims made
			// decode slower than the static split), and small ones at the
			// end, where the threads even out.
			end := min(hi, lo+max(p.grain, (hi-lo)/4))
			if own.CompareAndSwap(v, packRange(end, hi)) {
				p.job.run(self, lo, end)
			}
			continue
		}
		if !p.stealInto(self) {
			return
		}
	}
}

// stealInto moves the back half (rounded up) of the largest other share
// into thread self's empty share, and reports false when all are empty.
// The stolen units belong to no share until the store; a third thread that
// looks then may stop early, which is safe: self runs them before it
// finishes.
func (p *Pool) stealInto(self int) bool {
	for {
		victim, most := -1, 0
		var seen uint64
		for i := range p.shares {
			if i == self {
				continue
			}
			v := p.shares[i].r.Load()
			if lo, hi := unpackRange(v); hi-lo > most {
				victim, most, seen = i, hi-lo, v
			}
		}
		if victim < 0 {
			return false
		}
		lo, hi := unpackRange(seen)
		mid := hi - (hi-lo+1)/2
		if p.shares[victim].r.CompareAndSwap(seen, packRange(lo, mid)) {
			p.shares[self].r.Store(packRange(mid, hi))
			return true
		}
	}
}

// chunk is the static split: chunk i of t over [0, n).
func chunk(n, t, i int) (lo, hi int) {
	return n * i / t, n * (i + 1) / t
}

// dispatch runs t over [0, n) on all threads, with work stealing in
// claims of at least grain units if grain > 0 and in static chunks if 0;
// p.mu is held.
func (p *Pool) dispatch(n int, t task, grain int) {
	if n <= 0 {
		return
	}
	if p.threads == 1 || n == 1 || p.closed.Load() {
		t.run(0, 0, n)
		return
	}
	p.settle()
	p.job, p.n, p.steal, p.grain = t, n, grain > 0, grain
	if p.steal {
		p.ahead = false // this is the matmul it announced
		for i := range p.shares {
			p.shares[i].r.Store(packRange(chunk(n, p.threads, i)))
		}
	}
	p.publish()
	p.runChunk(0)
	p.wait()
	p.job = nil
	if p.ahead {
		p.startAsync(&p.scr.upcoming)
	}
}

// publish hands the job in p.job to the workers; p.mu is held.
func (p *Pool) publish() {
	p.pending.Store(int32(len(p.workers)))
	p.gen.Add(1)
	for i := range p.workers {
		p.wakeWorker(i)
	}
}

// startAsync runs t on the workers (chunks 1 to Threads()-1) without
// waiting for it: the caller goes on with its own work. t must return soon
// once p.abort is set; the next dispatch (settle) sets it and waits. p.mu
// is held.
func (p *Pool) startAsync(t task) {
	p.settle()
	p.job, p.n, p.steal, p.async = t, p.threads, false, true
	p.publish()
}

// settle stops the asynchronous job, if any, and waits for the workers to
// leave it; p.mu is held.
func (p *Pool) settle() {
	if !p.async {
		return
	}
	p.abort.Store(true)
	p.wait()
	p.abort.Store(false)
	p.async, p.job = false, nil
}

// runChunk runs thread i's part of the current dispatch.
func (p *Pool) runChunk(i int) {
	if p.steal {
		p.runShare(i)
	} else if lo, hi := chunk(p.n, p.threads, i); lo < hi {
		p.job.run(i, lo, hi)
	}
}

// The park handshakes are Dekker's pattern: a parker stores "parked" and
// then loads the condition; a waker changes the condition and then
// compare-and-swaps "parked" away. It needs the store ordered before the
// load, which Go's atomic Store and Load promise (sequential consistency).
// The parkers still use Swap, a read-modify-write: qemu-user 7.2 on an
// x86 host translates arm64's STLR and LDAR into a plain store and load
// without the fence between them that real arm64 implies, so a Store
// could sit in the store buffer past the Load; both then missed each
// other and TestPoolManyDispatches hung once in ten minutes of tests
// under qemu. A locked exchange orders every host.

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
		p.waiting.Swap(stateParked) // a locked exchange: see wakeWorker
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
			w.state.Swap(stateParked) // a locked exchange: see wakeWorker
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
		p.runChunk(i + 1)
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
