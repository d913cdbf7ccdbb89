package runtime

import (
	"encoding/binary"

	"github.com/bitnet-go/bitnet/gguf"
)

// firstNonFinite finds the first NaN or infinite element of a float
// tensor's bytes by its exponent bits (all ones), without converting. Types
// other than F32, F16 and BF16 are not scanned.
func firstNonFinite(typ gguf.Type, data []byte) (int, bool) {
	switch typ {
	case gguf.F32:
		for i := 0; i+4 <= len(data); i += 4 {
			if binary.LittleEndian.Uint32(data[i:])&0x7f800000 == 0x7f800000 {
				return i / 4, true
			}
		}
	case gguf.F16:
		for i := 0; i+2 <= len(data); i += 2 {
			if binary.LittleEndian.Uint16(data[i:])&0x7c00 == 0x7c00 {
				return i / 2, true
			}
		}
	case gguf.BF16:
		for i := 0; i+2 <= len(data); i += 2 {
			if binary.LittleEndian.Uint16(data[i:])&0x7f80 == 0x7f80 {
				return i / 2, true
			}
		}
	}
	return 0, false
}
