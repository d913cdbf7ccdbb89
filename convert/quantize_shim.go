package convert

// Temporary stand-ins for quantize functions that have not landed yet.
// TODO(convert): replace with the quantize package's F16, Q8_0, Q6_K and
// TL2 encoders once they exist.

import (
	"encoding/binary"
	"errors"

	"github.com/x448/float16"

	"github.com/bitnet-go/bitnet/quantize"
)

func shimEncodeF16(dst []byte, src []float32) error {
	for i, v := range src {
		binary.LittleEndian.PutUint16(dst[2*i:], float16.Fromfloat32(v).Bits())
	}
	return nil
}

func shimQuantizeQ8_0(dst []byte, src []float32) error {
	return errors.New("Q8_0 encoding is not available yet")
}

func shimQuantizeQ6_K(dst []byte, src []float32) error {
	return errors.New("Q6_K encoding is not available yet")
}

func shimPackTL2(dst []byte, codes []int8, m, k int, p quantize.TLParams, scale float32) error {
	return errors.New("TL2 packing is not available yet")
}
