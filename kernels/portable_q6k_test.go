package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkQ6KRows is the Q6_K output head on one thread (no pool), on
// the reference and the portable path only: a 16384×2560 slice of the
// 2B-4T head (128256×2560), for one decode token and for four.
func BenchmarkQ6KRows(b *testing.B) { benchRowsPortable(b, DQ6_K) }

// BenchmarkF16Rows is BenchmarkQ6KRows for an F16 head.
func BenchmarkF16Rows(b *testing.B) { benchRowsPortable(b, DF16) }

func benchRowsPortable(b *testing.B, typ DType) {
	const m, k = 16384, 2560
	r := rand.New(rand.NewPCG(9, 9))
	w := randDense(r, typ, m, k)
	for _, n := range []int{1, 4} {
		x := randFloats(r, n*k, 1)
		out := make([]float32, n*m)
		for _, p := range []struct {
			name string
			f    pathFlags
		}{{"generic", genericFlags}, {"portable", portableFlags}} {
			b.Run(fmt.Sprintf("n%d/%s", n, p.name), func(b *testing.B) {
				defer setFlags(p.f)()
				loopDense(b, nil, out, w, x, n)
			})
		}
	}
}

// TestQ6KPortableExtremes runs q6KRowsPortable against the reference on
// hand-made activations, since quantization alone never yields some of
// the values that bound the product trick: codes 0 and 63 against
// activations −128 and 127 (the largest products of each sign), all-zero
// blocks, int8 scales of both signs with −128, row scales of both signs,
// for 1 to 9 tokens (the single-token kernel, full and partial tiles)
// and K from one super-block to ten.
func TestQ6KPortableExtremes(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	codeByte := []func() byte{
		func() byte { return byte(r.IntN(256)) },
		func() byte { return 0 },    // code 0 everywhere
		func() byte { return 0xff }, // code 63 everywhere
		func() byte { return [2]byte{0, 0xff}[r.IntN(2)] },
	}
	act := []func() int8{
		func() int8 { return int8(r.IntN(256) - 128) },
		func() int8 { return -128 },
		func() int8 { return 127 },
		func() int8 { return 0 },
		func() int8 { return [3]int8{-128, 127, -127}[r.IntN(3)] },
	}
	const m = 6
	for _, k := range []int{256, 512, 768, 2560} {
		nb := k / q6KBlock
		for n := 1; n <= 9; n++ {
			for ci, code := range codeByte {
				for ai, av := range act {
					w := &Dense{Type: DQ6_K, M: m, K: k, Data: make([]byte, m*nb*q6KBytes)}
					for b := 0; b < m*nb; b++ {
						blk := w.Data[b*q6KBytes:][:q6KBytes]
						for i := 0; i < 192; i++ {
							blk[i] = code()
						}
						for i := 192; i < 208; i++ {
							blk[i] = byte(r.IntN(256))
							if r.IntN(8) == 0 {
								blk[i] = 0x80 // scale −128
							}
						}
						binary.LittleEndian.PutUint16(blk[208:], f32ToF16(float32(r.NormFloat64()*0.01)))
					}
					a := &blockActs{n: n, k: k, q: make([]int8, n*k), d: make([]float32, n*nb), bsum: make([]int16, n*k/16), u: make([]uint64, n*nb*q6KStride)}
					for i := range a.q {
						a.q[i] = av()
					}
					for i := range a.d {
						a.d[i] = float32(r.Float64() + 0.01)
					}
					for s := range a.bsum {
						for _, v := range a.q[16*s : 16*s+16] {
							a.bsum[s] += int16(v)
						}
					}
					q6KLayout(a.u, a.q)
					got, want := make([]float32, n*m), make([]float32, n*m)
					q6KRowsPortable(got, w, a, n, 0, m)
					denseRowsGeneric(want, w, nil, a, n, 0, m)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("k %d n %d codes %d acts %d: out[%d] = %v, want %v", k, n, ci, ai, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
