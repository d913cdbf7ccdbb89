package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lutCase builds an m×k I2_S matrix and n tokens that reach the bounds of
// the lookup-table kernel's 16-bit lanes: row 0 all −1 and row 1 all +1
// (against tokens of all −128 every code byte's entry is 1024, the lane
// maximum, or 0), row 2 all zero, the rest random; token t all −128 when
// t%3 == 0, all +127 when t%3 == 1, random otherwise, so that every lane
// of both tiles meets each extreme.
func lutCase(r *rand.Rand, m, k, n int) (tern []int8, w *I2S, a *QActs) {
	tern = randTernary(r, m*k)
	for i := 0; i < k; i++ {
		for row, v := range []int8{-1, 1, 0} {
			if row < m {
				tern[row*k+i] = v
			}
		}
	}
	a = &QActs{N: n, K: k, Q: randInt8(r, n*k), Scale: make([]float32, n)}
	for t := 0; t < n; t++ {
		a.Scale[t] = float32(r.Float64()*100 + 1)
		for i := 0; i < k; i++ {
			switch t % 3 {
			case 0:
				a.Q[t*k+i] = -128
			case 1:
				a.Q[t*k+i] = 127
			}
		}
	}
	return tern, &I2S{M: m, K: k, Data: packI2S(tern), Scale: float32(r.Float64() + 0.1)}, a
}

// TestI2SLUT runs the lookup-table kernel itself (below the row count
// from which the portable path picks it, too) against the formula, on
// row ranges that start inside the matrix and on every batch size from
// one to two whole 8-token groups and a remainder.
func TestI2SLUT(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, s := range []struct{ m, k int }{{1, 128}, {3, 256}, {6, 384}, {97, 640}, {130, 2560}} {
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 16, 17} {
			tern, w, a := lutCase(r, s.m, s.k, n)
			want := refMatMulI2S(tern, s.m, s.k, w.Scale, a)
			for _, rg := range [][2]int{{0, s.m}, {s.m / 3, s.m}, {0, (s.m + 1) / 2}} {
				got := make([]float32, n*s.m)
				i2sRowsLUT(got, w, a, tokensOf(a), rg[0], rg[1])
				for tk := 0; tk < n; tk++ {
					for m := rg[0]; m < rg[1]; m++ {
						i := tk*s.m + m
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%dx%d n%d rows %v: token %d row %d = %v, want %v", s.m, s.k, n, rg, tk, m, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestPortableI2SLUTPath checks the portable path where it takes the
// table kernel (from i2sLUTMinWork rows·tokens) and where it does not: K not a
// multiple of 128 (rows start inside blocks: the reference), the product
// trick below the threshold, code 3 counting as t = 0.
func TestPortableI2SLUTPath(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	for _, s := range []struct{ m, k int }{
		{i2sLUTMinWork / 4, 1280}, {i2sLUTMinWork/4 - 1, 1280}, {i2sLUTMinWork, 1280},
		{128, 200}, {160, 72}, {200, 6912},
	} {
		for _, n := range []int{1, 3, 8, 10} {
			name := fmt.Sprintf("%dx%d/n%d", s.m, s.k, n)
			tern, w, a := lutCase(r, s.m, s.k, n)
			want := refMatMulI2S(tern, s.m, s.k, w.Scale, a)
			got := make([]float32, n*s.m)
			withPath(portableFlags, func() { MatMulI2S(nil, got, w, a) })
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: out[%d] = %v, want %v", name, i, got[i], want[i])
				}
			}
		}
	}
	// Code 3 in every position of some bytes.
	w := &I2S{M: 128, K: 512, Data: make([]byte, 128*512/4), Scale: 0.5}
	for i := range w.Data {
		w.Data[i] = byte(r.IntN(256))
	}
	for _, n := range []int{1, 5, 9} {
		a := &QActs{N: n, K: w.K, Q: randInt8(r, n*w.K), Scale: make([]float32, n)}
		for i := range a.Scale {
			a.Scale[i] = 1 + float32(i)
		}
		got, want := make([]float32, n*w.M), make([]float32, n*w.M)
		i2sRowsLUT(got, w, a, tokensOf(a), 0, w.M)
		i2sRowsGeneric(want, w, a, tokensOf(a), 0, w.M)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("code 3, n%d: out[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}
