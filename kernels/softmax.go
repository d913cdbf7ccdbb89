package kernels

import "math"

// Softmax replaces x by exp(x - max x) / Σ, the exponentials in float64 and
// the sum in float64. An empty slice is left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := softmaxMax(x)
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// softmaxMax is the largest element of a non-empty x, or a NaN of x. The
// builtin max's NaN and signed-zero rules make it a slow dependent chain; a
// compare is predictable once the running max settles. Any NaN makes every
// output of a softmax NaN either way, and the sign of a zero max does not
// change exp(x - m).
func softmaxMax(x []float32) float32 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}
