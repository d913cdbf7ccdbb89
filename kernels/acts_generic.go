package kernels

import "math"

// actScale is the scale of FORMATS.md §4 from max|x| (computed exactly in
// float32, since abs and max are exact): the floor and the division are in
// float64 as bitnet.cpp does.
func actScale(amax float32) float32 {
	m := math.Max(1e-5, float64(amax))
	return float32(127 / m)
}

// absMaxGeneric returns max|x| (0 for an empty slice).
func absMaxGeneric(x []float32) float32 {
	var m float32
	for _, v := range x {
		v = float32(math.Abs(float64(v)))
		if v > m {
			m = v
		}
	}
	return m
}

// quantizeRowGeneric sets q[i] = clamp(round_half_even(float32(x[i]*s)), -128, 127).
func quantizeRowGeneric(q []int8, x []float32, s float32) {
	q = q[:len(x)]
	for i, v := range x {
		r := math.RoundToEven(float64(float32(v * s)))
		switch {
		case r > 127:
			r = 127
		case r < -128:
			r = -128
		}
		q[i] = int8(r)
	}
}

// quantizeActsGeneric is the reference for QuantizeActs.
func quantizeActsGeneric(q []int8, x []float32) float32 {
	s := actScale(absMaxGeneric(x))
	quantizeRowGeneric(q, x, s)
	return s
}
