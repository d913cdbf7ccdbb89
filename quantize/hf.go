package quantize

import (
	"fmt"
	"strings"
)

// UnpackHF decodes a Hugging Face 2-bit packed ternary tensor (transformers'
// pack_weights: uint8 of shape [out/4, in], each byte holding four values
// t+1 in bits 2i..2i+1) into codes [out][in].
//
// The four values of a byte belong to rows in four separate blocks of out/4
// rows, not to four neighbouring rows: bits 2i..2i+1 of packed row r hold
// row i·(out/4) + r (FORMATS.md §2).
func UnpackHF(dst []int8, packed []byte, out, in int) error {
	const op = "UnpackHF"
	n, err := checkHFShape(op, out, in)
	if err != nil {
		return err
	}
	shape := shapeHF(out, in)
	if err := needLen(op, shape, "packed", len(packed), n/4); err != nil {
		return err
	}
	if err := needLen(op, shape, "dst", len(dst), n); err != nil {
		return err
	}
	q := out / 4
	for r := range q {
		src := packed[r*in : (r+1)*in]
		for i := range 4 {
			row := dst[(i*q+r)*in : (i*q+r+1)*in]
			shift := 2 * i
			for k, b := range src {
				v := (b >> shift) & 3
				if v == 3 {
					return newErr(op, shape, ErrValue, "packed[%d][%d] bits %d..%d hold 3, not a ternary value", r, k, shift, shift+1)
				}
				row[k] = int8(v) - 1
			}
		}
	}
	return nil
}

// PackHF is the inverse of UnpackHF: codes [out][in] to uint8 [out/4, in].
// Tests and dummy checkpoints use it to write packed checkpoints.
func PackHF(dst []byte, codes []int8, out, in int) error {
	const op = "PackHF"
	n, err := checkHFShape(op, out, in)
	if err != nil {
		return err
	}
	shape := shapeHF(out, in)
	if err := needLen(op, shape, "codes", len(codes), n); err != nil {
		return err
	}
	if err := needLen(op, shape, "dst", len(dst), n/4); err != nil {
		return err
	}
	q := out / 4
	for r := range q {
		row := dst[r*in : (r+1)*in]
		clear(row)
		for i := range 4 {
			src := codes[(i*q+r)*in : (i*q+r+1)*in]
			for k, c := range src {
				v := uint8(c + 1)
				if v > 2 {
					return newErr(op, shape, ErrValue, "code [%d][%d] is %d, not in {-1,0,1}", i*q+r, k, c)
				}
				row[k] |= v << (2 * i)
			}
		}
	}
	return nil
}

func shapeHF(out, in int) string { return fmt.Sprintf("out=%d in=%d", out, in) }

func checkHFShape(op string, out, in int) (int, error) {
	n, err := checkMK(op, out, in)
	if err != nil {
		return 0, err
	}
	if out%4 != 0 {
		return 0, newErr(op, shapeHF(out, in), ErrShape, "out must be a multiple of 4 for 2-bit row-block packing")
	}
	return n, nil
}

// LinearClass is quantization_config.linear_class of a Hugging Face BitNet
// checkpoint: it fixes what the stored weight_scale means.
type LinearClass int

const (
	// BitLinear (the default when linear_class is absent; Llama3-8B-1.58,
	// Falcon3-1.58bit): W = T / weight_scale.
	BitLinear LinearClass = iota
	// AutoBitLinear (BitNet-b1.58-2B-4T, "offline" quantization):
	// W = T · weight_scale.
	AutoBitLinear
)

// ParseLinearClass maps the config string ("" meaning absent) to a class.
func ParseLinearClass(s string) (LinearClass, error) {
	switch strings.ToLower(s) {
	case "", "bitlinear":
		return BitLinear, nil
	case "autobitlinear":
		return AutoBitLinear, nil
	}
	return 0, &Error{Op: "ParseLinearClass", Shape: "-", Kind: ErrValue,
		Detail: fmt.Sprintf("unknown linear_class %q (want bitlinear or autobitlinear)", s)}
}

// String returns the config spelling.
func (c LinearClass) String() string {
	switch c {
	case BitLinear:
		return "bitlinear"
	case AutoBitLinear:
		return "autobitlinear"
	}
	return fmt.Sprintf("LinearClass(%d)", int(c))
}

// Scale converts a checkpoint's weight_scale to the multiplicative scale
// (W = T · scale) that I2_S/TL1/TL2 store: weight_scale itself for
// AutoBitLinear, float32(1/weight_scale) for BitLinear (what bitnet.cpp
// stores for such checkpoints). weight_scale must be finite and positive.
func (c LinearClass) Scale(weightScale float32) (float32, error) {
	const op = "LinearClass.Scale"
	if isNonFinite(weightScale) || weightScale <= 0 {
		return 0, newErr(op, shapeN(1), ErrValue, "weight_scale is %v, want a finite positive number", weightScale)
	}
	switch c {
	case BitLinear:
		s := 1 / weightScale
		if isNonFinite(s) {
			return 0, newErr(op, shapeN(1), ErrValue, "1/weight_scale overflows float32 (weight_scale %v)", weightScale)
		}
		return s, nil
	case AutoBitLinear:
		return weightScale, nil
	}
	return 0, newErr(op, shapeN(1), ErrValue, "unknown linear class %d", int(c))
}
