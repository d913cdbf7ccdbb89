package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// BitNet-b1.58-2B-4T projection shapes (M×K): QKV/O, K/V, gate/up, down.
var benchI2SShapes = [][2]int{{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}}

// benchPaths runs fn once per implementation this CPU offers. The pool has
// GOMAXPROCS threads (set it with -cpu).
func benchPaths(b *testing.B, fn func(b *testing.B, p *Pool)) {
	p := NewPool(runtime.GOMAXPROCS(0))
	defer p.Close()
	for _, path := range testPaths(b) {
		b.Run(path.name, func(b *testing.B) {
			defer path.enable()()
			fn(b, p)
		})
	}
}

func benchI2S(b *testing.B, n int) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchI2SShapes {
		m, k := s[0], s[1]
		w := &I2S{M: m, K: k, Data: packI2S(randTernary(r, m*k)), Scale: 1}
		var a QActs
		a.Quantize(randFloats(r, n*k, 1), n, k)
		out := make([]float32, n*m)
		b.Run(fmt.Sprintf("%dx%d", m, k), func(b *testing.B) {
			benchPaths(b, func(b *testing.B, p *Pool) {
				b.SetBytes(int64(m * k / 4)) // weight bytes streamed per op
				for b.Loop() {
					MatMulI2S(p, out, w, &a)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(m*k*n)/sec/1e9, "Gweights/s")
				b.ReportMetric(float64(n)/sec, "tok/s")
			})
		})
	}
}

// BenchmarkMatVecI2S is decode: one token, memory bound.
func BenchmarkMatVecI2S(b *testing.B) { benchI2S(b, 1) }

// BenchmarkMatMulI2S is prompt processing: 128 tokens, compute bound.
func BenchmarkMatMulI2S(b *testing.B) { benchI2S(b, 128) }

// BenchmarkHead is the tied 128256×2560 output head for one token.
func BenchmarkHead(b *testing.B) { benchHead(b, 128256, 2560, 1) }

// BenchmarkHeadBatch is the 125M dummy's 32002×768 head for the 8 tokens
// of a --parallel 8 serve step: compute bound, not memory bound.
func BenchmarkHeadBatch(b *testing.B) { benchHead(b, 32002, 768, 8) }

func benchHead(b *testing.B, m, k, n int) {
	r := rand.New(rand.NewPCG(2, 2))
	x := randFloats(r, n*k, 1)
	out := make([]float32, n*m)
	for _, typ := range []DType{DF16, DQ8_0, DQ6_K} {
		w := randDense(r, typ, m, k)
		w.Data = append(benchBytes(b, len(w.Data))[:0], w.Data...)
		b.Run(typ.String(), func(b *testing.B) {
			benchPaths(b, func(b *testing.B, p *Pool) { loopDense(b, p, out, w, x, n) })
		})
	}
}

// loopDense is the timed loop of the dense benchmarks: MatMulDense of n
// tokens, reported in weight bytes and weights per second.
func loopDense(b *testing.B, p *Pool, out []float32, w *Dense, x []float32, n int) {
	b.SetBytes(int64(len(w.Data)))
	for b.Loop() {
		MatMulDense(p, out, w, x, n)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(w.M*w.K*n)/sec/1e9, "Gweights/s")
}

// BenchmarkQuantizeActs is one token of the 2B-4T hidden size.
func BenchmarkQuantizeActs(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, k := range []int{2560, 6912} {
		x := randFloats(r, k, 3)
		q := make([]int8, k)
		b.Run(fmt.Sprint(k), func(b *testing.B) {
			benchPaths(b, func(b *testing.B, _ *Pool) {
				b.SetBytes(int64(4 * k))
				for b.Loop() {
					QuantizeActs(q, x)
				}
			})
		})
	}
}

// BenchmarkAttention is one decode token's attention for the 125M dummy's
// shape (12 heads of 64) over 75 positions of a head-major cache, the
// serve load test's average.
func BenchmarkAttention(b *testing.B) {
	const heads, hd, nPos, capN = 12, 64, 75, 128
	r := rand.New(rand.NewPCG(1, 2))
	q := randFloats(r, heads*hd, 1)
	k := randFloats(r, heads*capN*hd, 1)
	v := randFloats(r, heads*capN*hd, 1)
	out := make([]float32, heads*hd)
	sc := make([]float32, nPos)
	lay := KVLayout{HeadStride: capN * hd, PosStride: hd}
	benchPaths(b, func(b *testing.B, _ *Pool) {
		for b.Loop() {
			AttentionHeads(out, q, k, v, nPos, heads, heads, hd, lay, 0.125, sc, 0, heads)
		}
	})
}

// BenchmarkAttentionCold is BenchmarkAttention over the caches of 8
// sequences × 11 layers (69 MB), visited in turn as a --parallel 8 serve
// step of the 125M dummy visits them: the reads come from L3 or DRAM, not
// L1. Reported per (sequence, layer).
func BenchmarkAttentionCold(b *testing.B) {
	const heads, hd, nPos, capN, units = 12, 64, 75, 128, 88
	r := rand.New(rand.NewPCG(1, 2))
	q := randFloats(r, heads*hd, 1)
	k := make([][]float32, units)
	v := make([][]float32, units)
	for i := range k {
		k[i] = randFloats(r, heads*capN*hd, 1)
		v[i] = randFloats(r, heads*capN*hd, 1)
	}
	out := make([]float32, heads*hd)
	sc := make([]float32, nPos)
	lay := KVLayout{HeadStride: capN * hd, PosStride: hd}
	benchPaths(b, func(b *testing.B, _ *Pool) {
		b.SetBytes(2 * heads * nPos * hd * 4)
		i := 0
		for b.Loop() {
			AttentionHeads(out, q, k[i], v[i], nPos, heads, heads, hd, lay, 0.125, sc, 0, heads)
			i = (i + 1) % units
		}
	})
}
