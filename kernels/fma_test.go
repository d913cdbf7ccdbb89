package kernels

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 rounds a*b + c computed exactly in big.Float to float32
// (nearest, ties to even).
func exactFMA32(a, b, c float32) float32 {
	if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) ||
		a != a || b != b || c != c {
		return float32(float64(a)*float64(b) + float64(c))
	}
	x := new(big.Float).SetPrec(200).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
	if x.Sign() == 0 {
		// The sign of an exact zero sum: IEEE gives +0 unless both terms
		// are -0 (a product's sign is sign(a) xor sign(b)).
		pNeg := math.Signbit(float64(a)) != math.Signbit(float64(b))
		if pNeg && math.Signbit(float64(c)) && (a == 0 || b == 0) {
			return float32(math.Copysign(0, -1))
		}
		return 0
	}
	f, _ := x.Float32()
	return f
}

func TestFMA32(t *testing.T) {
	one := float32(1)
	tiny := math.Float32frombits(1) // smallest subnormal
	cases := [][3]float32{
		// a*b is 1 + 2^-11 + 2^-24: with c tiny the exact sum lies just
		// above a float32 tie, which float64 rounding would make a tie.
		{1 + 1.0/4096, 1 + 1.0/4096, 1e-30},
		{1 + 1.0/4096, 1 + 1.0/4096, -1e-30},
		{-(1 + 1.0/4096), 1 + 1.0/4096, 1e-30},
		{one, one, -one},
		{float32(math.Copysign(0, -1)), one, float32(math.Copysign(0, -1))},
		{tiny, 0.5, 0},
		{tiny, 0.5, tiny},
		{3 * tiny, 0.5, 0},
		{math.MaxFloat32, 2, -math.MaxFloat32},
		{math.MaxFloat32, 1, math.MaxFloat32},
		{float32(math.Inf(1)), 0, 1},
		{float32(math.Inf(1)), 1, float32(math.Inf(-1))},
	}
	// The first case is one where rounding twice goes wrong, so the test
	// can tell an emulation without rounding to odd from a correct one.
	a, b, c := cases[0][0], cases[0][1], cases[0][2]
	if naive := float32(float64(a)*float64(b) + float64(c)); naive == exactFMA32(a, b, c) {
		t.Fatalf("case 0 does not separate double rounding from fused: both %g", naive)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := func() float32 {
			switch r.IntN(4) {
			case 0: // near-ties: products of values with short mantissas
				return float32(1+float64(r.IntN(1<<12))/4096) * float32(math.Ldexp(1, r.IntN(20)-10))
			case 1:
				return math.Float32frombits(r.Uint32())
			}
			return float32(r.NormFloat64()) * float32(math.Ldexp(1, r.IntN(60)-30))
		}
		cases = append(cases, [3]float32{f(), f(), f()})
	}
	for _, c := range cases {
		got, want := fma32(c[0], c[1], c[2]), exactFMA32(c[0], c[1], c[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%g, %g, %g) = %g (%#x), want %g (%#x)", c[0], c[1], c[2], got, math.Float32bits(got), want, math.Float32bits(want))
		}
	}
}
