package runtime

import (
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

func TestFirstNonFinite(t *testing.T) {
	tests := []struct {
		name string
		typ  gguf.Type
		data []byte
		at   int
		bad  bool
	}{
		{"F32 finite", gguf.F32, []byte{0, 0, 0x80, 0x3f, 0xff, 0xff, 0x7f, 0x7f}, 0, false}, // 1, MaxFloat32
		{"F32 +Inf", gguf.F32, []byte{0, 0, 0x80, 0x3f, 0, 0, 0x80, 0x7f}, 1, true},
		{"F32 NaN", gguf.F32, []byte{1, 0, 0xc0, 0xff}, 0, true},
		{"F16 finite", gguf.F16, []byte{0x00, 0x3c, 0xff, 0x7b}, 0, false}, // 1, 65504
		{"F16 -Inf", gguf.F16, []byte{0x00, 0x3c, 0x00, 0xfc}, 1, true},
		{"F16 NaN", gguf.F16, []byte{0x00, 0x3c, 0x00, 0x3c, 0x01, 0x7e}, 2, true},
		{"BF16 finite", gguf.BF16, []byte{0x80, 0x3f, 0x7f, 0x7f}, 0, false},
		{"BF16 NaN", gguf.BF16, []byte{0x80, 0x3f, 0xc0, 0x7f}, 1, true},
		{"Q8_0 not scanned", gguf.Q8_0, []byte{0xff, 0xff, 0xff, 0xff}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, bad := firstNonFinite(tt.typ, tt.data)
			if bad != tt.bad || (bad && at != tt.at) {
				t.Fatalf("got (%d, %v), want (%d, %v)", at, bad, tt.at, tt.bad)
			}
		})
	}
}
