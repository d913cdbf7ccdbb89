package kernels

import "math"

// fmaFast is fma32 (a*b + c rounded once to float32) with the rounding to
// odd left out wherever it cannot change the result, which is almost
// everywhere; it returns the same bits as fma32 on every input.
//
// Why it is exact: the product of two float32 is exact in float64 (24+24
// bits of significand, exponents far inside float64's range), so
// s = round64(a*b + c) is one rounding of the exact sum x, and whether
// the compiler fuses the multiply and the add (it does on arm64, ppc64le,
// s390x, riscv64) makes no difference: round64(p + c) with p exact is the
// fused result. Converting s to float32 rounds a second time, and the pair
// of roundings equals the single correct rounding of x except when s lies
// exactly on a float32 rounding boundary:
//   - s normal as a float32 (|s| ≥ 2^-126): the float32 midpoints have a
//     float64 significand whose low 29 bits are 1<<28. Rounding to nearest
//     is monotone and every midpoint is a float64, so if x is below a
//     midpoint, s is at most that midpoint, and s passes over it never;
//     the second rounding can only go wrong when s equals it. The same
//     holds at the overflow threshold (MaxFloat32 + half an ulp), whose
//     low 29 bits are also 1<<28, and for ±Inf and NaN, which both paths
//     convert the same way.
//   - s in float32's subnormal range (float64 exponent field 1..896): the
//     boundaries there are coarser, so every such s takes the slow path.
//   - exponent field 0 (s is ±0 or a float64 subnormal): an addition
//     that lands there is exact (Hauser), so s = x and one rounding is
//     all there is.
//
// The slow path is fma32 itself, so equality with it holds by
// construction there; TestFMAFast checks the fast path on random and
// adversarial inputs (exact ties, near-ties, subnormals, overflow).
//
// The hot loops (fmaLanes, weightedSumPortable) spell this out with
// fmaRare, since a function that may call fma32 is too costly for the
// compiler to inline.
func fmaFast(a, b, c float32) float32 {
	if s := float64(a)*float64(b) + float64(c); !fmaRare(s) {
		return float32(s)
	}
	return fma32(a, b, c)
}

// fmaRare reports whether float32(s) of the float64 sum s may round twice
// wrongly (see fmaFast): s is a float32 midpoint (its low 29 significand
// bits are 1<<28) or in float32's subnormal range (exponent field 1..896).
func fmaRare(s float64) bool {
	u := math.Float64bits(s)
	return u&(1<<29-1) == 1<<28 || (u>>52&0x7ff)-1 < 896
}
