package quantize

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// TestI2SVectors checks FORMATS.md §3 test vectors A and B byte for byte,
// and that unpacking gives the codes and scale back.
func TestI2SVectors(t *testing.T) {
	vecA := make([]int8, 128)
	for i := range vecA {
		vecA[i] = int8(i%3) - 1
	}
	vecB := make([]int8, 128)
	vecB[0] = -1
	for i := 1; i < 32; i++ {
		vecB[i] = 1
	}
	for i := 64; i < 96; i++ {
		vecB[i] = -1
	}
	for i := 96; i < 128; i++ {
		vecB[i] = 1
	}
	tests := []struct {
		name  string
		codes []int8
		scale float32
		want  string // hex of bytes 0..35
	}{
		{"A", vecA, 0.25, strings.Repeat("244992", 10) + "2449" + "0000803e"},
		{"B", vecB, 0.5, "12" + strings.Repeat("92", 31) + "0000003f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _ := hex.DecodeString(tt.want)
			dst := make([]byte, 128/4+32)
			for i := range dst {
				dst[i] = 0xAA // the packer must overwrite every byte
			}
			if err := PackI2S(dst, tt.codes, 1, 128, tt.scale); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dst[:36], want) {
				t.Errorf("bytes 0..35\n got %x\nwant %x", dst[:36], want)
			}
			if !bytes.Equal(dst[36:], make([]byte, 28)) {
				t.Errorf("padding not zero: %x", dst[36:])
			}
			back := make([]int8, 128)
			scale, err := UnpackI2S(back, dst, 1, 128)
			if err != nil {
				t.Fatal(err)
			}
			if scale != tt.scale || !equalCodes(back, tt.codes) {
				t.Errorf("unpack: scale %v codes %v", scale, back)
			}
		})
	}
}

func equalCodes(a, b []int8) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestI2SCode3 checks that code 3, which no encoder writes, decodes to 0.
func TestI2SCode3(t *testing.T) {
	src := make([]byte, 32+32)
	src[0] = 0xFF // codes 3,3,3,3 for elements 0, 32, 64, 96
	src[1] = 0x1B // 0,1,2,3 -> -1,0,1,0 for elements 1, 33, 65, 97
	dst := make([]int8, 128)
	if _, err := UnpackI2S(dst, src, 2, 64); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 32, 64, 96, 97} {
		if dst[i] != 0 {
			t.Errorf("element %d = %d, want 0", i, dst[i])
		}
	}
	if dst[1] != -1 || dst[33] != 0 || dst[65] != 1 {
		t.Errorf("elements 1, 33, 65 = %d %d %d, want -1 0 1", dst[1], dst[33], dst[65])
	}
}
