package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fmaCases returns inputs that exercise every branch of fmaFast: exact
// float32 midpoints reached through a rounding of the float64 sum (the
// double-rounding trap), exact ties, near-ties from short significands,
// subnormal and overflowing results, and random bit patterns.
func fmaCases(r *rand.Rand, n int) [][3]float32 {
	inf := float32(math.Inf(1))
	tiny := math.Float32frombits(1)
	cases := [][3]float32{
		{1 + 1.0/4096, 1 + 1.0/4096, 1e-30}, // a*b is a midpoint; ±c pushes x off it
		{1 + 1.0/4096, 1 + 1.0/4096, -1e-30},
		{1 + 1.0/4096, 1 + 1.0/4096, 0}, // an exact tie: to even
		{-(1 + 1.0/4096), 1 + 1.0/4096, 1e-30},
		{1, 1, -1}, {0, 0, 0}, {float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1))},
		{tiny, 0.5, 0}, {tiny, 0.5, tiny}, {3 * tiny, 0.5, 0}, {1.5, 1.0 / (1 << 126), 0},
		{math.MaxFloat32, 2, -math.MaxFloat32}, {math.MaxFloat32, 1, math.MaxFloat32},
		{math.MaxFloat32, 1, math.MaxFloat32 / (1 << 24)}, {math.MaxFloat32, 1, math.MaxFloat32 / (1 << 25)},
		{inf, 0, 1}, {inf, 1, -inf}, {inf, 1, 1},
	}
	for range n {
		f := func() float32 {
			switch r.IntN(5) {
			case 0: // short significands: products land on or near midpoints
				return float32(1+float64(r.IntN(1<<12))/4096) * float32(math.Ldexp(1, r.IntN(20)-10))
			case 1:
				return math.Float32frombits(r.Uint32())
			case 2: // the subnormal boundary
				return float32(r.NormFloat64()) * float32(math.Ldexp(1, -r.IntN(30)-50))
			}
			return float32(r.NormFloat64()) * float32(math.Ldexp(1, r.IntN(60)-30))
		}
		a, b := f(), f()
		c := f()
		switch r.IntN(4) {
		case 0:
			// c a float32 a few ulps of the product away, so p + c cancels
			// or lands on a midpoint.
			p := float32(float64(a) * float64(b))
			c = -math.Float32frombits(math.Float32bits(p) + uint32(r.IntN(5)) - 2)
		case 1:
			// c tiny against a midpoint product: the float64 sum rounds
			// onto the midpoint.
			a = float32(1+float64(r.IntN(1<<12))/4096) * float32(math.Ldexp(1, r.IntN(40)-20))
			b = float32(1 + float64(r.IntN(1<<12))/4096)
			c = float32(r.NormFloat64()) * float32(math.Ldexp(math.Abs(float64(a)), -30-r.IntN(30)))
		}
		cases = append(cases, [3]float32{a, b, c})
	}
	return cases
}

func TestFMAFast(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	slow := 0
	for _, c := range fmaCases(r, 300000) {
		got, want := fmaFast(c[0], c[1], c[2]), exactFMA32(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fmaFast(%g, %g, %g) = %g (%#x), want %g (%#x)", c[0], c[1], c[2], got, math.Float32bits(got), want, math.Float32bits(want))
		}
		s := float64(c[0])*float64(c[1]) + float64(c[2])
		if float32(s) != want && !(want != want) {
			slow++ // a case only the slow path gets right
		}
	}
	t.Logf("%d cases need the slow path", slow)
	if slow == 0 {
		t.Fatal("no case separates double rounding from a fused multiply-add")
	}
}
