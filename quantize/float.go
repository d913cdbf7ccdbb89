package quantize

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// F32ToF16 converts src to IEEE half precision (round to nearest even, as
// ggml's F16C path does), little endian, into dst (2·len(src) bytes). NaN,
// Inf, and finite values beyond the F16 range (|x| > 65504 after rounding)
// are errors: a weight that does not survive the conversion is a broken
// conversion.
func F32ToF16(dst []byte, src []float32) error {
	const op = "F32ToF16"
	if err := needLen(op, shapeN(len(src)), "dst bytes", len(dst), 2*len(src)); err != nil {
		return err
	}
	for i, x := range src {
		h := float16.Fromfloat32(x)
		if !h.IsFinite() {
			return newErr(op, shapeN(len(src)), ErrValue, "element %d is %v, not representable in F16", i, x)
		}
		binary.LittleEndian.PutUint16(dst[2*i:], h.Bits())
	}
	return nil
}

// F16ToF32 converts little-endian IEEE half floats (2·len(dst) bytes) to
// float32; the conversion is exact.
func F16ToF32(dst []float32, src []byte) error {
	if err := needLen("F16ToF32", shapeN(len(dst)), "src bytes", len(src), 2*len(dst)); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = float16.Frombits(binary.LittleEndian.Uint16(src[2*i:])).Float32()
	}
	return nil
}

// F32ToBF16 converts src to bfloat16 (the top 16 bits of a float32, rounded
// to nearest even), little endian, into dst (2·len(src) bytes). NaN, Inf and
// values that round to Inf are errors.
func F32ToBF16(dst []byte, src []float32) error {
	const op = "F32ToBF16"
	if err := needLen(op, shapeN(len(src)), "dst bytes", len(dst), 2*len(src)); err != nil {
		return err
	}
	for i, x := range src {
		if isNonFinite(x) {
			return newErr(op, shapeN(len(src)), ErrValue, "element %d is %v", i, x)
		}
		b := math.Float32bits(x)
		b += 0x7fff + (b>>16)&1
		if b&0x7f800000 == 0x7f800000 {
			return newErr(op, shapeN(len(src)), ErrValue, "element %d (%v) rounds to Inf in BF16", i, x)
		}
		binary.LittleEndian.PutUint16(dst[2*i:], uint16(b>>16))
	}
	return nil
}

// BF16ToF32 converts little-endian bfloat16 values (2·len(dst) bytes) to
// float32; the conversion is exact.
func BF16ToF32(dst []float32, src []byte) error {
	if err := needLen("BF16ToF32", shapeN(len(dst)), "src bytes", len(src), 2*len(dst)); err != nil {
		return err
	}
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(src[2*i:])) << 16)
	}
	return nil
}
