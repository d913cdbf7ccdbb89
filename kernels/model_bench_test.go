package kernels

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// benchLayer is the I2_S part of one BitNet-b1.58-2B-4T layer, fused the
// way the runtime dispatches it.
type benchLayer struct {
	qkv, o, gateUp, down []*I2S
}

// benchModel builds 30 layers of random valid I2_S codes (~520 MB): far
// more than any cache, so decode numbers are DRAM numbers.
func benchModel(b *testing.B) []benchLayer {
	b.Helper()
	var valid [81]byte
	for i := range valid {
		v := i
		for j := 0; j < 4; j++ {
			valid[i] = valid[i]<<2 | byte(v%3)
			v /= 3
		}
	}
	r := rand.New(rand.NewPCG(4, 4))
	const h, kv, ffn = 2560, 640, 6912
	arena := benchBytes(b, 30*(2*h*h+2*kv*h+3*ffn*h)/4) // one mapping: huge pages need 2 MiB runs
	mat := func(m, k int) *I2S {
		d := arena[: m*k/4 : m*k/4]
		arena = arena[m*k/4:]
		for i := range d {
			d[i] = valid[r.IntN(81)]
		}
		return &I2S{M: m, K: k, Data: d, Scale: 0.5}
	}
	layers := make([]benchLayer, 30)
	for i := range layers {
		layers[i] = benchLayer{
			qkv:    []*I2S{mat(h, h), mat(kv, h), mat(kv, h)},
			o:      []*I2S{mat(h, h)},
			gateUp: []*I2S{mat(ffn, h), mat(ffn, h)},
			down:   []*I2S{mat(h, ffn)},
		}
	}
	return layers
}

func modelBytes(layers []benchLayer) int64 {
	var n int64
	for _, l := range layers {
		for _, g := range [][]*I2S{l.qkv, l.o, l.gateUp, l.down} {
			for _, w := range g {
				n += int64(len(w.Data))
			}
		}
	}
	return n
}

// benchForward runs the I2_S matmuls of all layers for n tokens (inputs are
// random: only the weight traffic and the arithmetic matter here).
func benchForward(b *testing.B, n int) {
	layers := benchModel(b)
	r := rand.New(rand.NewPCG(5, 5))
	var ah, af QActs
	ah.Quantize(randFloats(r, n*2560, 1), n, 2560)
	af.Quantize(randFloats(r, n*6912, 1), n, 6912)
	outs := func(ms ...int) [][]float32 {
		o := make([][]float32, len(ms))
		for i, m := range ms {
			o[i] = make([]float32, n*m)
		}
		return o
	}
	qkv, o, gu, down := outs(2560, 640, 640), outs(2560), outs(6912, 6912), outs(2560)
	benchPaths(b, func(b *testing.B, p *Pool) {
		b.SetBytes(modelBytes(layers))
		for b.Loop() {
			for _, l := range layers {
				MatMulI2SMulti(p, qkv, l.qkv, &ah)
				MatMulI2SMulti(p, o, l.o, &ah)
				MatMulI2SMulti(p, gu, l.gateUp, &ah)
				MatMulI2SMulti(p, down, l.down, &af)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "tok/s")
	})
}

// BenchmarkDecodeI2S is one token through the I2_S weights of the whole
// 2B-4T: compare its MB/s with BenchmarkStreamRead.
func BenchmarkDecodeI2S(b *testing.B) { benchForward(b, 1) }

// BenchmarkPrefillI2S is a 128-token prompt through the same weights.
func BenchmarkPrefillI2S(b *testing.B) { benchForward(b, 128) }

// BenchmarkStreamRead is the roofline for decode: the pool's threads read
// 512 MB with the vector max loop.
func BenchmarkStreamRead(b *testing.B) {
	x := unsafe.Slice((*float32)(unsafe.Pointer(&benchBytes(b, 512<<20)[0])), 128<<20)
	for i := range x {
		x[i] = float32(i & 1023)
	}
	p := NewPool(runtime.GOMAXPROCS(0))
	defer p.Close()
	const chunk = 1 << 16
	var res [64]float32
	b.SetBytes(int64(4 * len(x)))
	for b.Loop() {
		p.Run(len(x)/chunk, func(lo, hi int) {
			var m float32
			for i := lo; i < hi; i++ {
				m = max(m, absMax(x[i*chunk:(i+1)*chunk]))
			}
			res[lo*len(res)/(len(x)/chunk)] = m
		})
	}
}

// BenchmarkPoolRun is the cost of one empty dispatch.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool(runtime.GOMAXPROCS(0))
	defer p.Close()
	for b.Loop() {
		p.Run(64, poolBody)
	}
}
