package kernels

import "math"

// RoPE rotates the first ropeDim dimensions of each of the nHeads heads of
// one token at position pos in place. Pair i (i < ropeDim/2) turns by
// pos·freqBase^(-2i/ropeDim), the angle and its sine and cosine computed in
// float64; neox pairs dimension i with i+ropeDim/2 (GPT-NeoX, HF
// rotate_half), otherwise 2i with 2i+1 (original llama).
func RoPE(x []float32, nHeads, headDim, ropeDim, pos int, freqBase float32, neox bool) {
	x = x[:nHeads*headDim]
	half := ropeDim / 2
	for i := 0; i < half; i++ {
		theta := float64(pos) * math.Pow(float64(freqBase), -2*float64(i)/float64(ropeDim))
		s, c := math.Sincos(theta)
		sin, cos := float32(s), float32(c)
		i0, i1 := 2*i, 2*i+1
		if neox {
			i0, i1 = i, i+half
		}
		for h := 0; h < nHeads; h++ {
			v := x[h*headDim:]
			a, b := v[i0], v[i1]
			v[i0] = float32(a*cos) - float32(b*sin)
			v[i1] = float32(a*sin) + float32(b*cos)
		}
	}
}
