package kernels

import "math"

// RoPE rotates the first ropeDim dimensions of each of the nHeads heads of
// one token at position pos in place. Pair i (i < ropeDim/2) turns by
// pos·freqBase^(-2i/ropeDim), the angle and its sine and cosine computed in
// float64; neox pairs dimension i with i+ropeDim/2 (GPT-NeoX, HF
// rotate_half), otherwise 2i with 2i+1 (original llama).
func RoPE(x []float32, nHeads, headDim, ropeDim, pos int, freqBase float32, neox bool) {
	half := ropeDim / 2
	sin, cos := make([]float32, half), make([]float32, half)
	RoPEAngles(sin, cos, ropeDim, pos, freqBase)
	RoPERotate(x, nHeads, headDim, ropeDim, sin, cos, neox)
}

// RoPEAngles sets sin[i], cos[i] (i < ropeDim/2) to the float32 sine and
// cosine of pair i's angle at pos, as RoPE computes them; a caller can
// compute them once per position and rotate several tensors (or cache
// them) with RoPERotate, with results identical to RoPE's.
func RoPEAngles(sin, cos []float32, ropeDim, pos int, freqBase float32) {
	half := ropeDim / 2
	sin, cos = sin[:half], cos[:half]
	for i := range sin {
		theta := float64(pos) * math.Pow(float64(freqBase), -2*float64(i)/float64(ropeDim))
		s, c := math.Sincos(theta)
		sin[i], cos[i] = float32(s), float32(c)
	}
}

// RoPERotate is RoPE with the angles of RoPEAngles.
func RoPERotate(x []float32, nHeads, headDim, ropeDim int, sin, cos []float32, neox bool) {
	x = x[:nHeads*headDim]
	half := ropeDim / 2
	sin, cos = sin[:half], cos[:half]
	for h := 0; h < nHeads; h++ {
		v := x[h*headDim : (h+1)*headDim]
		done := ropeVector(v, sin, cos, neox)
		ropeGeneric(v, sin, cos, neox, done)
	}
}

// ropeGeneric is the reference of RoPERotate for one head, from pair i0 on.
func ropeGeneric(v, sin, cos []float32, neox bool, i0 int) {
	half := len(sin)
	for i := i0; i < half; i++ {
		j0, j1 := 2*i, 2*i+1
		if neox {
			j0, j1 = i, i+half
		}
		a, b := v[j0], v[j1]
		v[j0] = float32(a*cos[i]) - float32(b*sin[i])
		v[j1] = float32(a*sin[i]) + float32(b*cos[i])
	}
}
