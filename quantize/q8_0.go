package quantize

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// Q8_0 (ggml block_q8_0): blocks of 32 values stored as an F16 scale d
// followed by 32 int8 quants, 34 bytes; value = q·d.
const (
	q8Block      = 32
	q8BlockBytes = 2 + q8Block
)

// QuantizeQ8_0 quantizes src (a multiple of 32 values; rows of a tensor are
// blocked independently only when K is a multiple of 32, which
// gguf.TensorBytes enforces) into dst (len(src)/32·34 bytes) exactly as
// ggml's quantize_row_q8_0_ref: d = amax/127, q = roundf(x·(1/d)) (half away
// from zero), d stored as F16. NaN/Inf inputs are errors.
func QuantizeQ8_0(dst []byte, src []float32) error {
	const op = "QuantizeQ8_0"
	nb, err := blocks(op, len(src), q8Block)
	if err != nil {
		return err
	}
	if err := needLen(op, shapeN(len(src)), "dst bytes", len(dst), nb*q8BlockBytes); err != nil {
		return err
	}
	if err := checkFinite(op, src); err != nil {
		return err
	}
	for i := range nb {
		x := src[i*q8Block : (i+1)*q8Block]
		out := dst[i*q8BlockBytes : (i+1)*q8BlockBytes]
		var amax float32
		for _, v := range x {
			amax = max(amax, abs32(v))
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(out, float16.Fromfloat32(d).Bits())
		for j, v := range x {
			out[2+j] = byte(int8(math.Round(float64(v * id))))
		}
	}
	return nil
}

// DequantizeQ8_0 expands Q8_0 blocks (len(dst)/32·34 bytes) into dst as
// ggml's dequantize_row_q8_0 does: float32(q)·d.
func DequantizeQ8_0(dst []float32, src []byte) error {
	const op = "DequantizeQ8_0"
	nb, err := blocks(op, len(dst), q8Block)
	if err != nil {
		return err
	}
	if err := needLen(op, shapeN(len(dst)), "src bytes", len(src), nb*q8BlockBytes); err != nil {
		return err
	}
	for i := range nb {
		in := src[i*q8BlockBytes : (i+1)*q8BlockBytes]
		d := float16.Frombits(binary.LittleEndian.Uint16(in)).Float32()
		y := dst[i*q8Block : (i+1)*q8Block]
		for j := range y {
			y[j] = float32(int8(in[2+j])) * d
		}
	}
	return nil
}

func blocks(op string, n, block int) (int, error) {
	if n%block != 0 {
		return 0, newErr(op, shapeN(n), ErrShape, "length is not a multiple of the %d-element block", block)
	}
	return n / block, nil
}

func checkFinite(op string, src []float32) error {
	for i, v := range src {
		if isNonFinite(v) {
			return newErr(op, shapeN(len(src)), ErrValue, "element %d is %v", i, v)
		}
	}
	return nil
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }
