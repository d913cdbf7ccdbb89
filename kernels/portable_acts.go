package kernels

import "math"

// quantizeActsPortable is quantizeActsGeneric with a cheaper maximum and a
// cheaper rounding, both exact.
func quantizeActsPortable(q []int8, x []float32) float32 {
	s := actScale(absMaxPortable(x))
	quantizeRowPortable(q, x, s)
	return s
}

// absMaxPortable is absMaxGeneric on the bits: for non-NaN float32 the
// order of |x| is the order of its bits with the sign cleared, read as
// unsigned integers, so four running maxima of integers (in any order,
// max being exact) give the same value. NaN inputs are unspecified, as
// for QuantizeActs.
func absMaxPortable(x []float32) float32 {
	var m0, m1, m2, m3 uint32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := (*[4]float32)(x[i : i+4])
		m0 = max(m0, math.Float32bits(v[0])&0x7fffffff)
		m1 = max(m1, math.Float32bits(v[1])&0x7fffffff)
		m2 = max(m2, math.Float32bits(v[2])&0x7fffffff)
		m3 = max(m3, math.Float32bits(v[3])&0x7fffffff)
	}
	for ; i < len(x); i++ {
		m0 = max(m0, math.Float32bits(x[i])&0x7fffffff)
	}
	return math.Float32frombits(max(m0, m1, m2, m3))
}

// roundMagic is 1.5·2^23: for |y| ≤ 2^22, y + roundMagic lies in
// [2^23, 2^24), where float32's spacing is 1, so the float32 addition rounds
// y to an integer, ties to even, exactly as math.RoundToEven; subtracting
// it again is exact.
const roundMagic = 1.5 * (1 << 23)

// quantizeRowPortable is quantizeRowGeneric with the clamp before the
// rounding, which gives the same integers: a product above 127 rounds to
// at least 127 and clamps to 127, as 127 itself does (likewise at -128),
// and inside [-128, 127] the clamp changes nothing. Clamped, the value is
// in the range of roundMagic. The explicit float32 conversion keeps the
// compiler from fusing x*s into the addition on any GOARCH.
func quantizeRowPortable(q []int8, x []float32, s float32) {
	q = q[:len(x)]
	for i, v := range x {
		y := float32(v * s)
		if y > 127 {
			y = 127
		}
		if y < -128 {
			y = -128
		}
		q[i] = int8(int32((y + roundMagic) - roundMagic))
	}
}
