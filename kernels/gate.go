package kernels

import "math"

// SiLUMul sets dst = silu(gate) * up, silu(g) = g / (1 + e^-g), in
// float32 with the exponential of expf32 (so that vector lanes compute the
// same bits). dst may alias either input. Results for NaN inputs are
// unspecified.
func SiLUMul(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	n := siluMulVector(dst, gate, up)
	siluMulGeneric(dst[n:], gate[n:], up[n:])
}

// siluMulGeneric is the reference of SiLUMul.
func siluMulGeneric(dst, gate, up []float32) {
	for i, g := range gate[:len(dst)] {
		dst[i] = float32(g/float32(1+expf32(-g))) * up[i]
	}
}

// expf32 is e^x in float32 arithmetic, each operation rounded on its own:
// x clamped to [-87, 88], n = round_half_even(x·log2 e), r = x - n·ln2 (ln2
// in a high part exact in float32 and a low part), e^r by Horner's rule on
// its Taylor series to r⁶/720, times 2ⁿ. Relative error about 2e-7.
func expf32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125
		ln2lo = 1.42860682030941723e-06
	)
	x = min(max(x, -87), 88)
	n := float32(math.RoundToEven(float64(x * log2e)))
	r := x - float32(n*ln2hi)
	r -= float32(n * ln2lo)
	p := float32(1.0 / 720)
	for _, c := range [...]float32{1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1, 1} {
		p = float32(p*r) + c
	}
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// ReLU2Mul sets dst = relu(gate)² * up (BitNet-b1.58-2B-4T's squared ReLU),
// relu(g) = g if g > 0 else 0 as ggml computes it (so relu(NaN) = 0). dst
// may alias either input.
func ReLU2Mul(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	n := relu2MulVector(dst, gate, up)
	relu2MulGeneric(dst[n:], gate[n:], up[n:])
}

// relu2MulGeneric is the reference of ReLU2Mul.
func relu2MulGeneric(dst, gate, up []float32) {
	for i, g := range gate[:len(dst)] {
		if !(g > 0) {
			g = 0
		}
		dst[i] = float32(g*g) * up[i]
	}
}

// Add sets dst += x (residual connections).
func Add(dst, x []float32) {
	x = x[:len(dst)]
	n := addVector(dst, x)
	addGeneric(dst[n:], x[n:])
}

// addGeneric is the reference of Add.
func addGeneric(dst, x []float32) {
	for i, v := range x[:len(dst)] {
		dst[i] += v
	}
}
