package convert

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// floatRowUnit returns how many elements of a row of cols elements a chunk
// of a float-encoded tensor must be a multiple of: whole quantization blocks,
// which for the K-quants are whole rows.
func floatRowUnit(typ gguf.Type, cols int) int {
	switch typ {
	case gguf.Q8_0, gguf.Q6_K:
		return cols
	}
	return 1
}

// checkFloatType reports whether a tensor of cols columns can be stored as
// typ (block types need rows made of whole blocks).
func checkFloatType(typ gguf.Type, cols int) error {
	switch typ {
	case gguf.F32, gguf.F16:
		return nil
	case gguf.Q8_0:
		if cols%32 != 0 {
			return fmt.Errorf("Q8_0 needs rows that are a multiple of 32 elements, not %d", cols)
		}
		return nil
	case gguf.Q6_K:
		if cols%256 != 0 {
			return fmt.Errorf("Q6_K needs rows that are a multiple of 256 elements, not %d", cols)
		}
		return nil
	}
	return fmt.Errorf("%s is not a float storage type (want F32, F16, Q8_0 or Q6_K)", typ)
}

// encodeFloats encodes src (whole rows of cols elements for block types) as
// typ into dst, which must have exactly the encoded size.
func encodeFloats(dst []byte, src []float32, typ gguf.Type, cols int) error {
	switch typ {
	case gguf.F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
		return nil
	case gguf.F16:
		return quantize.F32ToF16(dst, src)
	case gguf.Q8_0:
		return quantize.QuantizeQ8_0(dst, src)
	case gguf.Q6_K:
		return quantize.QuantizeQ6K(dst, src)
	}
	return fmt.Errorf("cannot encode floats as %s", typ)
}

// encodeTernary encodes ternary codes (M×K, row-major, GGUF row order) with
// their scale as typ into dst (exactly gguf.TensorBytes long).
func encodeTernary(dst []byte, typ gguf.Type, codes []int8, m, k int, scale float32, tl quantize.TLParams) error {
	switch typ {
	case gguf.I2_S:
		return quantize.PackI2S(dst, codes, m, k, scale)
	case gguf.TL1:
		return quantize.PackTL1(dst, codes, m, k, tl, scale)
	case gguf.TL2:
		return quantize.PackTL2(dst, codes, m, k, tl, scale)
	}
	return fmt.Errorf("cannot store ternary weights as %s", typ)
}
