package kernels

// upcomingBytes bounds the weights each worker loads ahead of one matmul:
// a fraction of its L2 cache, since the matmul streams everything else
// through the same cache on the way.
const upcomingBytes = 512 << 10

// UpcomingI2S tells p that the next matmul it runs reads ws (the operands
// of a MatMulI2S or MatMulI2SMulti call, in order). Until then its workers,
// idle while the caller does the serial steps of a decode step between two
// matmuls (a norm, the gate, RoPE), load the first upcomingBytes of their
// shares of ws into their caches, so that the memory bus is not idle then
// too; work stealing evens out the head start. It returns at once and
// changes no result: other dispatches on p (attention, say) stop the
// loading while they run and start it again after them.
func (p *Pool) UpcomingI2S(ws ...*I2S) {
	if !p.canAsync() {
		return
	}
	t := p.beginUpcoming()
	for _, w := range ws {
		units, unitBytes := w.groups()
		t.add(w.Data[:w.M*w.K/4], unitBytes, units)
	}
	p.startUpcoming()
}

// UpcomingDense is UpcomingI2S for a MatMulDense call on w.
func (p *Pool) UpcomingDense(w *Dense) {
	if !p.canAsync() || w.Validate() != nil {
		return
	}
	t := p.beginUpcoming()
	units, unitBytes := w.groups()
	t.add(w.Data[:w.M*w.rowBytes()], unitBytes, units)
	p.startUpcoming()
}

func (p *Pool) canAsync() bool {
	return p != nil && p.threads > 1 && prefetchAvailable() && !p.closed.Load()
}

// beginUpcoming locks p and returns its upcoming task emptied, once no
// worker reads it; startUpcoming starts it and unlocks.
func (p *Pool) beginUpcoming() *upcomingTask {
	p.mu.Lock()
	p.settle()
	p.scr.upcoming = upcomingTask{p: p}
	return &p.scr.upcoming
}

func (p *Pool) startUpcoming() {
	p.ahead = true
	p.startAsync(&p.scr.upcoming)
	p.mu.Unlock()
}

// upcomingTask is the asynchronous job of UpcomingI2S and UpcomingDense:
// the weights as runTask will split them, units of unitBytes in order.
type upcomingTask struct {
	p       *Pool
	regions [4]upcomingRegion
	nr      int
	units   int
}

type upcomingRegion struct {
	data             []byte
	unitBytes, units int
}

// add appends one matrix; past the fourth (no kernel fuses more) the rest
// is not loaded ahead.
func (t *upcomingTask) add(data []byte, unitBytes, units int) {
	if t.nr < len(t.regions) {
		t.regions[t.nr] = upcomingRegion{data, unitBytes, units}
		t.nr++
	}
	t.units += units
}

// run loads the start of thread c's share, the static chunk stealing
// dispatches begin with, 4 KiB at a time until the budget is spent or the
// pool wants the thread back.
func (t *upcomingTask) run(c, _, _ int) {
	skip, _ := chunk(t.units, t.p.threads, c)
	budget := upcomingBytes
	for _, r := range t.regions[:t.nr] {
		if skip >= r.units {
			skip -= r.units
			continue
		}
		b := r.data[min(len(r.data), skip*r.unitBytes):]
		skip = 0
		for len(b) > 0 && budget > 0 {
			if t.p.abort.Load() {
				return
			}
			n := min(len(b), budget, 4<<10)
			prefetchBytes(b[:n])
			b, budget = b[n:], budget-n
		}
	}
}
