package kernels

// QActs holds per-token int8 activations (FORMATS.md §4): row n of Q is
// token n quantized with its own scale, q = round(x*Scale[n]).
type QActs struct {
	N, K  int
	Q     []int8    // N*K, row-major
	Scale []float32 // N
}

// QuantizeActs quantizes one token x into q (len(q) == len(x)) and returns its
// scale s: max = max(1e-5, max|x|) in float64, s = float32(127/max),
// q = clamp(round_half_even(float32(x*s)), -128, 127). Results for NaN or
// infinite inputs are unspecified.
func QuantizeActs(q []int8, x []float32) (scale float32) {
	if len(q) != len(x) {
		panic("kernels: QuantizeActs length mismatch")
	}
	return quantizeActs(q, x)
}

// Quantize quantizes n tokens of k values each (x is row-major, len >= n*k),
// growing Q and Scale only when they are too small.
func (a *QActs) Quantize(x []float32, n, k int) {
	if len(x) < n*k {
		panic("kernels: QActs.Quantize input too short")
	}
	a.N, a.K = n, k
	a.Q, a.Scale = growSlice(a.Q, n*k), growSlice(a.Scale, n)
	for i := 0; i < n; i++ {
		a.Scale[i] = quantizeActs(a.Q[i*k:(i+1)*k], x[i*k:(i+1)*k])
	}
}
