package kernels

import "math"

// fma32 is the float32 fused multiply-add a*b + c rounded once, as
// VFMADD231PS computes it. The product of two float32 is exact in float64;
// the float64 sum is then rounded to odd (a nonzero error forces the last
// bit to 1), which makes the final rounding to float32 correct: a float64
// holds more than 24+2 bits, so rounding to odd first cannot create a false
// tie (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums:
// proved algorithms using rounding to odd", IEEE TC 2008). Plain float64
// arithmetic would round twice and differ from the hardware in rare ties.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	cc := float64(c)
	s := p + cc
	if math.IsInf(s, 0) || s != s {
		return float32(s)
	}
	// TwoSum: e is the exact error of s = p + cc.
	bv := s - p
	e := (p - (s - bv)) + (cc - bv)
	if bits := math.Float64bits(s); e != 0 && bits&1 == 0 {
		// Move s one ulp toward the exact sum: the odd neighbour.
		if (e > 0) == (s > 0) {
			bits++
		} else {
			bits--
		}
		s = math.Float64frombits(bits)
	}
	return float32(s)
}
