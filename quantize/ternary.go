package quantize

import "math"

// absmeanFloor is the 1e-5 lower bound on mean|W| of BitNet's weight
// quantizer (torch clamps the float32 mean with the scalar 1e-5, which torch
// converts to float32 first).
const absmeanFloor = float32(1e-5)

// Absmean quantizes a float32 weight tensor (any shape, flattened) to ternary
// codes with one per-tensor scale, as BitNet's weight quantizer and
// bitnet.cpp's preprocessing do (FORMATS.md §2):
//
//	s     = float32(1 / max(mean|W|, 1e-5))
//	t     = clamp(round_half_even(float32(W*s)), -1, 1)
//	scale = float32(1 / s)
//
// scale is the multiplicative scale (W ≈ t·scale) that I2_S, TL1 and TL2
// store, bit-for-bit what bitnet.cpp stores when mean|W| matches torch's.
//
// torch sums mean|W| in float32 with cascade summation; here the sum is
// accumulated in float64, rounded once to float32 and divided by float32(n),
// which is the correctly rounded float32 sum followed by torch's float32
// division. torch's own sum can be off by an ulp, so scales agree with
// bitnet.cpp to about 1e-7 relative, and codes agree exactly unless some
// W*s lands within an ulp of ±0.5.
//
// NaN or Inf weights, an empty tensor, and a mean that overflows float32 are
// errors.
func Absmean(w []float32) (codes []int8, scale float32, err error) {
	codes = make([]int8, len(w))
	scale, err = AbsmeanInto(codes, w)
	if err != nil {
		return nil, 0, err
	}
	return codes, scale, nil
}

// AbsmeanInto is Absmean writing the codes into codes, which must have
// len(w) elements.
func AbsmeanInto(codes []int8, w []float32) (scale float32, err error) {
	const op = "Absmean"
	if len(w) == 0 {
		return 0, newErr(op, shapeN(0), ErrShape, "empty tensor")
	}
	if err := needLen(op, shapeN(len(w)), "codes", len(codes), len(w)); err != nil {
		return 0, err
	}
	s, err := absmeanFactor(op, w)
	if err != nil {
		return 0, err
	}
	for i, x := range w {
		codes[i] = ternaryRound(float32(x * s))
	}
	return 1 / s, nil
}

// AbsmeanFactor returns the quantization factor s = 1/max(mean|W|, 1e-5) of
// Absmean (the inverse of the stored scale), computed the same way.
func AbsmeanFactor(w []float32) (float32, error) {
	if len(w) == 0 {
		return 0, newErr("AbsmeanFactor", shapeN(0), ErrShape, "empty tensor")
	}
	return absmeanFactor("AbsmeanFactor", w)
}

func absmeanFactor(op string, w []float32) (float32, error) {
	// Four float64 partial sums break the add latency chain; each is exact
	// to far below a float32 ulp of the total.
	var s0, s1, s2, s3 float64
	var nonFinite bool
	i := 0
	for ; i+4 <= len(w); i += 4 {
		x := w[i : i+4 : i+4]
		nonFinite = nonFinite || isNonFinite(x[0]) || isNonFinite(x[1]) || isNonFinite(x[2]) || isNonFinite(x[3])
		s0 += float64(abs32(x[0]))
		s1 += float64(abs32(x[1]))
		s2 += float64(abs32(x[2]))
		s3 += float64(abs32(x[3]))
	}
	for ; i < len(w); i++ {
		nonFinite = nonFinite || isNonFinite(w[i])
		s0 += float64(abs32(w[i]))
	}
	if nonFinite {
		if err := checkFinite(op, w); err != nil {
			return 0, err
		}
	}
	sum := (s0 + s1) + (s2 + s3)
	mean := float32(sum) / float32(len(w))
	if math.IsInf(float64(mean), 0) {
		return 0, newErr(op, shapeN(len(w)), ErrValue, "mean |W| overflows float32")
	}
	if mean < absmeanFloor {
		mean = absmeanFloor
	}
	return 1 / mean, nil
}

// ternaryRound is clamp(round_half_even(x), -1, 1): |x| <= 0.5 rounds to 0
// under round-half-even, anything beyond to ±1. Written without branches
// because random weights make them unpredictable. NaN cannot reach it.
func ternaryRound(x float32) int8 {
	return b2i(x > 0.5) - b2i(x < -0.5)
}

// b2i compiles to a SETcc, not a branch.
func b2i(b bool) int8 {
	var i int8
	if b {
		i = 1
	}
	return i
}

// TernaryDequantize writes t·scale for every code into dst (len(dst) ==
// len(codes)). It is the reference meaning of a packed tensor: what the
// weights are, whichever layout holds them.
func TernaryDequantize(dst []float32, codes []int8, scale float32) error {
	const op = "TernaryDequantize"
	if err := needLen(op, shapeN(len(codes)), "dst", len(dst), len(codes)); err != nil {
		return err
	}
	if err := checkScale(op, shapeN(len(codes)), scale); err != nil {
		return err
	}
	for i, c := range codes {
		if c < -1 || c > 1 {
			return newErr(op, shapeN(len(codes)), ErrValue, "code %d is %d, not in {-1,0,1}", i, c)
		}
		dst[i] = float32(c) * scale
	}
	return nil
}

// isNonFinite reports NaN or ±Inf: an all-ones exponent.
func isNonFinite(x float32) bool {
	return math.Float32bits(x)&0x7f800000 == 0x7f800000
}

func checkScale(op, shape string, scale float32) error {
	if isNonFinite(scale) {
		return newErr(op, shape, ErrValue, "scale is %v", scale)
	}
	return nil
}
