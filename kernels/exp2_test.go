package kernels

import (
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

func BenchmarkExpAttnCold(b *testing.B) {
	const heads, kvh, hd, nPos, capN, layers = 20, 5, 128, 40, 128, 30
	r := rand.New(rand.NewPCG(1, 2))
	q := randFloats(r, heads*hd, 1)
	arena := make([]byte, 2*layers*kvh*capN*hd*4)
	kv := unsafe.Slice((*float32)(unsafe.Pointer(&arena[0])), 2*layers*kvh*capN*hd)
	for i := range kv {
		kv[i] = float32(i%7) * 0.1
	}
	per := kvh * capN * hd
	sweep := benchBytes(b, 1300<<20)
	xs := unsafe.Slice((*float32)(unsafe.Pointer(&sweep[0])), len(sweep)/4)
	out := make([]float32, heads*hd)
	sc := make([]float32, nPos)
	lay := KVLayout{HeadStride: capN * hd, PosStride: hd}
	for _, mode := range []string{"hot", "cold"} {
		b.Run(mode, func(b *testing.B) {
			var att time.Duration
			off := 0
			for b.Loop() {
				for l := range layers {
					if mode == "cold" {
						absMax(xs[off : off+(10<<20)])
						off = (off + 10<<20) % (len(xs) - 10<<20)
					}
					k := kv[2*l*per : (2*l+1)*per]
					v := kv[(2*l+1)*per : (2*l+2)*per]
					t := time.Now()
					AttentionHeads(out, q, k, v, nPos, heads, kvh, hd, lay, 0.125, sc, 0, heads/2)
					att += time.Since(t)
				}
			}
			b.ReportMetric(float64(att.Nanoseconds())/float64(b.N*layers), "ns/layer")
		})
	}
}
