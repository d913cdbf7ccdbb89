package kernels

import (
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
