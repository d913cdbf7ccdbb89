package server

import "math"

// expNeg returns e^x for x ≤ 0 with a relative error below 2e-7, several
// times faster than math.Exp; sampling evaluates it once per vocabulary
// entry per token, which for a 128k vocabulary rivals a small model's
// forward pass. Below -87 (under float32's normal range) it returns 0.
func expNeg(x float64) float32 {
	if !(x > -87) { // NaN too
		return 0
	}
	const (
		log2e = 1.4426950408889634
		ln2hi = 0.693145751953125
		ln2lo = 1.4286068203094173e-06
	)
	n := math.Floor(x*log2e + 0.5)
	r := x - n*ln2hi - n*ln2lo // |r| ≤ ln2/2
	// Taylor to r⁶/720: error ≤ (ln2/2)⁷/5040 ≈ 1.2e-7 relative.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	return float32(p) * math.Float32frombits(uint32(int32(n)+127)<<23)
}
