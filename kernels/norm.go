package kernels

import "math"

// RMSNorm sets dst = x / sqrt(mean(x²) + eps) * w for one row, as ggml
// does: squares in float32, their sum in float64, the scale in float32, then
// two float32 multiplies. dst may alias x.
func RMSNorm(dst, x, w []float32, eps float32) {
	if len(dst) == 0 {
		return
	}
	x = x[:len(dst)]
	w = w[:len(dst)]
	mean := rmsMean(x)
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

// rmsMean returns ggml's mean square of x, float32(Σ float64(float32(v·v))
// / n) with the sum taken in index order, without taking it in index order
// when it need not: that chain of dependent float64 additions cost 1.24 µs
// per 2560-wide row, about 0.2 ms of every 36 ms 2B-4T decode token, on one
// thread while the others wait. A sum of n non-negative terms in any order is within (n−1)·u of
// their exact sum, relative (u = 2⁻⁵³; Higham, "Accuracy and Stability of
// Numerical Algorithms", §4.2), so the ordered sum lies within 2(n−1)·u of
// a vector sum s. The mean's division and the float32 conversion are
// monotonic: if both ends of [s − d, s + d] give the same float32 mean, so
// does the ordered sum, and that is the result. d = 4n·u·s also covers the
// rounding of s ± d itself. Otherwise (a mean within about n·2⁻⁵² of a
// float32 rounding boundary: a few in a hundred thousand rows of 2560) and
// for non-finite sums the ordered sum is taken.
func rmsMean(x []float32) float32 {
	if m, ok := rmsMeanVector(x); ok {
		return m
	}
	return rmsMeanGeneric(x)
}

// rmsMeanVector is rmsMean's unordered sum and bound; ok is false when it
// cannot tell the mean.
func rmsMeanVector(x []float32) (mean float32, ok bool) {
	n := len(x)
	s, i := sumSquaresVector(x)
	var lane [4]float64
	for ; i+4 <= n; i += 4 {
		for l := range lane {
			lane[l] += float64(float32(x[i+l] * x[i+l]))
		}
	}
	for ; i < n; i++ {
		lane[0] += float64(float32(x[i] * x[i]))
	}
	s += (lane[0] + lane[1]) + (lane[2] + lane[3])
	if !math.IsInf(s, 0) && !math.IsNaN(s) {
		d := s * float64(n) * 0x1p-51
		if lo, hi := float32((s-d)/float64(n)), float32((s+d)/float64(n)); lo == hi {
			return lo, true
		}
	}
	return 0, false
}

// rmsMeanGeneric is the reference of rmsMean: ggml's ordered float64 sum
// of the float32 squares.
func rmsMeanGeneric(x []float32) float32 {
	var sum float64
	for _, v := range x {
		sum += float64(float32(v * v))
	}
	return float32(sum / float64(len(x)))
}
