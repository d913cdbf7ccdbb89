package kernels

import "math"

// SiLUMul sets dst = silu(gate) * up, silu(g) = g / (1 + e^-g) with the
// exponential in float64. dst may alias either input.
func SiLUMul(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	for i, g := range gate {
		s := float32(float64(g) / (1 + math.Exp(-float64(g))))
		dst[i] = s * up[i]
	}
}

// ReLU2Mul sets dst = relu(gate)² * up (BitNet-b1.58-2B-4T's squared ReLU).
// dst may alias either input.
func ReLU2Mul(dst, gate, up []float32) {
	gate, up = gate[:len(dst)], up[:len(dst)]
	for i, g := range gate {
		r := max(g, 0)
		dst[i] = float32(r*r) * up[i]
	}
}

// Add sets dst += x (residual connections).
func Add(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += v
	}
}
