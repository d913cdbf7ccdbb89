package kernels

import "math"

// RMSNorm sets dst = x / sqrt(mean(x²) + eps) * w for one row, as ggml
// does: squares in float32, their sum in float64, the scale in float32, then
// two float32 multiplies. dst may alias x.
func RMSNorm(dst, x, w []float32, eps float32) {
	x = x[:len(dst)]
	w = w[:len(dst)]
	var sum float64
	for _, v := range x {
		sum += float64(float32(v * v))
	}
	mean := float32(sum / float64(len(x)))
	// ggml: scale = 1.0f/sqrtf(mean + eps), both operations in float32.
	// float32(math.Sqrt) of a float32 is its correctly rounded float32 root;
	// taking the reciprocal in float64 instead differed in the last bit for
	// about a quarter of all means, enough to move an activation across an
	// int8 rounding boundary downstream.
	scale := 1 / float32(math.Sqrt(float64(mean+eps)))
	n := scaleMulVector(dst, x, w, scale)
	scaleMulGeneric(dst[n:], x[n:], w[n:], scale)
}

// scaleMulGeneric is the reference of RMSNorm's second pass: dst = (x·s)·w.
func scaleMulGeneric(dst, x, w []float32, s float32) {
	x, w = x[:len(dst)], w[:len(dst)]
	for i, v := range x {
		dst[i] = float32(v*s) * w[i]
	}
}
