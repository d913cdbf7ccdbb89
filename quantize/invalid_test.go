package quantize

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// TestInvalidInputs: every pack/unpack entry point rejects bad input with an
// *Error of the right kind whose message names the shape, and never panics.
func TestInvalidInputs(t *testing.T) {
	nan := float32(math.NaN())
	codes := func(n int) []int8 { return make([]int8, n) }
	withBad := func(n, at int, v int8) []int8 { c := make([]int8, n); c[at] = v; return c }
	p1 := TLParams{32, 8, 32}
	p2 := TLParams{32, 96, 32}
	tl2n := tl2Bytes(32, 256)
	tests := []struct {
		name  string
		err   error
		kind  error
		shape string // substring the message must contain
	}{
		// I2_S
		{"I2S codes short", PackI2S(make([]byte, 64), codes(127), 1, 128, 1), ErrLength, "M=1 K=128"},
		{"I2S dst short", PackI2S(make([]byte, 63), codes(128), 1, 128, 1), ErrLength, "M=1 K=128"},
		{"I2S dst long", PackI2S(make([]byte, 65), codes(128), 1, 128, 1), ErrLength, "M=1 K=128"},
		{"I2S partial block", PackI2S(make([]byte, 48), codes(64), 1, 64, 1), ErrShape, "M=1 K=64"},
		{"I2S zero M", PackI2S(nil, nil, 0, 128, 1), ErrShape, "M=0 K=128"},
		{"I2S negative K", PackI2S(nil, nil, 2, -128, 1), ErrShape, "M=2 K=-128"},
		{"I2S huge", PackI2S(nil, nil, math.MaxInt/2, 4, 1), ErrShape, "K=4"},
		{"I2S NaN scale", PackI2S(make([]byte, 64), codes(128), 1, 128, nan), ErrValue, "M=1 K=128"},
		{"I2S Inf scale", PackI2S(make([]byte, 64), codes(128), 1, 128, float32(math.Inf(1))), ErrValue, "M=1 K=128"},
		{"I2S code 2", PackI2S(make([]byte, 96), withBad(256, 200, 2), 2, 128, 1), ErrValue, "[1][72]"},
		{"I2S code -2", PackI2S(make([]byte, 64), withBad(128, 5, -2), 1, 128, 1), ErrValue, "[0][5]"},
		{"I2S code 127", PackI2S(make([]byte, 64), withBad(128, 127, 127), 1, 128, 1), ErrValue, "[0][127]"},
		{"I2S unpack src", func() error { _, err := UnpackI2S(codes(128), make([]byte, 32), 1, 128); return err }(), ErrLength, "M=1 K=128"},
		{"I2S unpack dst", func() error { _, err := UnpackI2S(codes(129), make([]byte, 64), 1, 128); return err }(), ErrLength, "M=1 K=128"},
		// TL1
		{"TL1 shape", PackTL1(make([]byte, 32+32), codes(128), 4, 32, p1, 1), ErrShape, "M=4 K=32"},
		{"TL1 dst", PackTL1(make([]byte, 32*8/4+31), codes(256), 32, 8, p1, 1), ErrLength, "M=32 K=8"},
		{"TL1 codes", PackTL1(make([]byte, 32*8/4+32), codes(255), 32, 8, p1, 1), ErrLength, "M=32 K=8"},
		{"TL1 bad code", PackTL1(make([]byte, 32*8/4+32), withBad(256, 17, 3), 32, 8, p1, 1), ErrValue, "[2][1]"},
		{"TL1 NaN scale", PackTL1(make([]byte, 32*8/4+32), codes(256), 32, 8, p1, nan), ErrValue, "M=32 K=8"},
		{"TL1 unpack src", func() error { _, err := UnpackTL1(codes(256), make([]byte, 64), 32, 8, p1); return err }(), ErrLength, "M=32 K=8"},
		{"TL1 unpack nibble", func() error {
			src := make([]byte, 32*8/4+32)
			src[3] = 0x49
			_, err := UnpackTL1(codes(256), src, 32, 8, p1)
			return err
		}(), ErrValue, "M=32 K=8"},
		// TL2
		{"TL2 shape", PackTL2(make([]byte, tl2n), codes(32*240), 32, 240, p2, 1), ErrShape, "M=32 K=240"},
		{"TL2 dst", PackTL2(make([]byte, tl2n-32), codes(32*256), 32, 256, p2, 1), ErrLength, "M=32 K=256"},
		{"TL2 codes", PackTL2(make([]byte, tl2n), codes(32*256-1), 32, 256, p2, 1), ErrLength, "M=32 K=256"},
		{"TL2 bad code", PackTL2(make([]byte, tl2n), withBad(32*256, 300, -5), 32, 256, p2, 1), ErrValue, "[1][44]"},
		{"TL2 Inf scale", PackTL2(make([]byte, tl2n), codes(32*256), 32, 256, p2, float32(math.Inf(-1))), ErrValue, "M=32 K=256"},
		{"TL2 unpack src", func() error { _, err := UnpackTL2(codes(32*256), make([]byte, tl2n+1), 32, 256, p2); return err }(), ErrLength, "M=32 K=256"},
		{"TL2 unpack magnitude", func() error {
			src := make([]byte, tl2n)
			src[0] = 0xE0
			_, err := UnpackTL2(codes(32*256), src, 32, 256, p2)
			return err
		}(), ErrValue, "M=32 K=256"},
		{"TL2 unpack pair", func() error {
			src := make([]byte, tl2n)
			src[32*192/6+32*192/24] = 0x0F
			_, err := UnpackTL2(codes(32*256), src, 32, 256, p2)
			return err
		}(), ErrValue, "M=32 K=256"},
		// HF
		{"HF out not multiple of 4", UnpackHF(codes(6), make([]byte, 1), 6, 1), ErrShape, "out=6 in=1"},
		{"HF packed short", UnpackHF(codes(8), make([]byte, 1), 8, 1), ErrLength, "out=8 in=1"},
		{"HF pack bad code", PackHF(make([]byte, 2), withBad(8, 3, 9), 8, 1), ErrValue, "out=8 in=1"},
		// Absmean
		{"Absmean codes", func() error { _, err := AbsmeanInto(codes(2), []float32{1}); return err }(), ErrLength, "n=1"},
		{"Absmean NaN", func() error { _, err := AbsmeanInto(codes(2), []float32{1, nan}); return err }(), ErrValue, "n=2"},
	}
	for _, tt := range tests {
		var qe *Error
		switch {
		case !errors.As(tt.err, &qe):
			t.Errorf("%s: err = %v, want *Error", tt.name, tt.err)
		case !errors.Is(tt.err, tt.kind):
			t.Errorf("%s: err = %v, want kind %v", tt.name, tt.err, tt.kind)
		case !strings.Contains(tt.err.Error(), tt.shape):
			t.Errorf("%s: %q does not mention %q", tt.name, tt.err, tt.shape)
		}
	}
}
