package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoolRun(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := NewPool(threads)
		if p.Threads() != threads {
			t.Fatalf("Threads() = %d, want %d", p.Threads(), threads)
		}
		for _, n := range []int{0, 1, 2, 3, 7, 100} {
			for rep := 0; rep < 50; rep++ {
				hits := make([]atomic.Int32, n)
				p.Run(n, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						hits[i].Add(1)
					}
				})
				for i := range hits {
					if h := hits[i].Load(); h != 1 {
						t.Fatalf("threads %d n %d: index %d run %d times", threads, n, i, h)
					}
				}
			}
		}
		p.Close()
		p.Close() // idempotent
	}
}

func TestNilPool(t *testing.T) {
	var p *Pool
	if p.Threads() != 1 {
		t.Fatal("nil pool threads != 1")
	}
	sum := 0
	p.Run(10, func(lo, hi int) { sum += hi - lo })
	p.Close()
	if sum != 10 {
		t.Fatalf("covered %d", sum)
	}
}

func TestPoolDefaultThreads(t *testing.T) {
	p := NewPool(0)
	defer p.Close()
	if p.Threads() < 1 {
		t.Fatalf("Threads() = %d", p.Threads())
	}
}

var sink atomic.Int64

func poolBody(lo, hi int) { sink.Add(int64(hi - lo)) }

func TestPoolNoAlloc(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	if n := testing.AllocsPerRun(200, func() { p.Run(64, poolBody) }); n != 0 {
		t.Fatalf("Run allocates %v times per call", n)
	}
	w := &I2S{M: 8, K: 128, Data: make([]byte, 8*32), Scale: 1}
	a := &QActs{N: 2, K: 128, Q: make([]int8, 256), Scale: []float32{1, 1}}
	out := make([]float32, 16)
	MatMulI2S(p, out, w, a) // grow scratch once
	if n := testing.AllocsPerRun(200, func() { MatMulI2S(p, out, w, a) }); n != 0 {
		t.Fatalf("MatMulI2S allocates %v times per call", n)
	}
	outs, ws := [][]float32{out[:8], out[8:]}, []*I2S{{M: 4, K: 128, Data: w.Data, Scale: 1}, {M: 4, K: 128, Data: w.Data, Scale: 1}}
	a1 := &QActs{N: 1, K: 128, Q: a.Q[:128], Scale: a.Scale[:1]}
	MatMulI2SMulti(p, outs, ws, a1)
	if n := testing.AllocsPerRun(200, func() { MatMulI2SMulti(p, outs, ws, a1) }); n != 0 {
		t.Fatalf("MatMulI2SMulti allocates %v times per call", n)
	}
	d := &Dense{Type: DF16, M: 8, K: 64, Data: make([]byte, 8*128)}
	x := make([]float32, 64)
	if n := testing.AllocsPerRun(200, func() { MatMulDense(p, out[:8], d, x, 1) }); n != 0 {
		t.Fatalf("MatMulDense allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(200, func() { p.UpcomingI2S(ws...); p.UpcomingDense(d) }); n != 0 {
		t.Fatalf("Upcoming allocates %v times per call", n)
	}
	var acts QActs
	xs := make([]float32, 256)
	acts.Quantize(xs, 2, 128)
	if n := testing.AllocsPerRun(200, func() { acts.Quantize(xs, 2, 128) }); n != 0 {
		t.Fatalf("QActs.Quantize allocates %v times per call", n)
	}
}

// TestPoolManyDispatches oversubscribes the CPUs and pauses now and then, so
// that workers and the dispatcher are preempted and parked at many points of
// the wake-up protocol: every
// chunk of every dispatch must be done, once, when Run returns.
func TestPoolManyDispatches(t *testing.T) {
	p := NewPool(4)
	defer p.Close()
	const n = 64
	var marks [n]atomic.Int32
	for round := int32(1); round <= 5000; round++ {
		p.Run(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				marks[i].Add(1)
			}
		})
		for i := range marks {
			if got := marks[i].Load(); got != round {
				t.Fatalf("round %d: element %d done %d times", round, i, got)
			}
		}
		if round%16 == 0 {
			time.Sleep(2 * spinFor) // let workers and the dispatcher park
		}
	}
}

// markTask records which thread ran each unit of a stealing dispatch, after
// an optional delay per unit on one thread.
type markTask struct {
	by   []atomic.Int32 // thread+1 that ran the unit, 0 if none
	runs atomic.Int32
	slow int // thread whose units each take a while, -1 for none
}

func (m *markTask) run(c, lo, hi int) {
	for i := lo; i < hi; i++ {
		if c == m.slow {
			time.Sleep(20 * time.Microsecond)
		}
		if !m.by[i].CompareAndSwap(0, int32(c+1)) {
			panic(fmt.Sprintf("unit %d run twice", i))
		}
		m.runs.Add(1)
	}
}

// TestPoolRunTask checks the stealing dispatch: every unit runs exactly
// once, on a thread index in range, for any size, grain and thread count;
// and the units of a slow thread's share are taken over by the others.
func TestPoolRunTask(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 5} {
		p := NewPool(threads)
		for _, n := range []int{1, 2, 7, 100, 1000} {
			for _, grain := range []int{1, 3, 64} {
				for rep := range 20 {
					m := &markTask{by: make([]atomic.Int32, n), slow: -1}
					if rep%5 == 4 && n <= 100 {
						m.slow = rep % threads
					}
					p.runTask(n, grain, m)
					if got := m.runs.Load(); got != int32(n) {
						t.Fatalf("threads %d n %d grain %d: %d units run", threads, n, grain, got)
					}
					for i := range m.by {
						if c := m.by[i].Load(); c < 1 || int(c) > threads {
							t.Fatalf("unit %d ran on thread %d", i, c-1)
						}
					}
				}
			}
		}
		if threads > 1 {
			// Thread 0's units are slow: the workers must take some over.
			const n = 200
			m := &markTask{by: make([]atomic.Int32, n), slow: 0}
			p.runTask(n, 1, m)
			lo, hi := chunk(n, threads, 0)
			stolen := 0
			for i := lo; i < hi; i++ {
				if m.by[i].Load() != 1 {
					stolen++
				}
			}
			if stolen < (hi-lo)/2 {
				t.Errorf("threads %d: only %d of the slow thread's %d units were taken over", threads, stolen, hi-lo)
			}
		}
		p.Close()
	}
}

// TestUpcoming runs matmuls after announcing them (and announcing others,
// dispatching other work in between, and closing with a load in flight):
// the loading ahead changes no result.
func TestUpcoming(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	w := &I2S{M: 64, K: 256, Data: packI2S(randTernary(r, 64*256)), Scale: 0.5}
	w2 := &I2S{M: 32, K: 256, Data: packI2S(randTernary(r, 32*256)), Scale: 2}
	d := randDense(r, DF16, 40, 64)
	var a QActs
	a.Quantize(randFloats(r, 256, 1), 1, 256)
	x := randFloats(r, 64, 1)
	want := make([]float32, 64)
	MatMulI2S(nil, want, w, &a)
	wantD := make([]float32, 40)
	MatMulDense(nil, wantD, d, x, 1)
	var nilPool *Pool
	nilPool.UpcomingI2S(w)
	nilPool.UpcomingDense(d)
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads)
		got := make([]float32, 64)
		gotD := make([]float32, 40)
		for rep := range 300 {
			switch rep % 3 {
			case 0:
				p.UpcomingI2S(w)
			case 1:
				p.UpcomingI2S(w2, w)
				p.UpcomingDense(d)
			}
			if rep%7 == 0 {
				time.Sleep(10 * time.Microsecond) // let the load run
			}
			p.Run(10, func(lo, hi int) {}) // stops the load and starts it again
			MatMulI2S(p, got, w, &a)
			p.UpcomingDense(d)
			MatMulDense(p, gotD, d, x, 1)
			p.Run(10, func(lo, hi int) {})
			if !slices.Equal(got, want) || !slices.Equal(gotD, wantD) {
				t.Fatalf("threads %d rep %d: results changed", threads, rep)
			}
		}
		p.UpcomingI2S(w)
		p.Close()
		p.UpcomingI2S(w) // after Close: ignored
	}
}
