package quantize

import (
	"errors"
	"testing"
)

// TestUnpackHFLayout pins the row-block layout: bits 2i..2i+1 of packed row
// r hold output row i·(out/4)+r, value t+1.
func TestUnpackHFLayout(t *testing.T) {
	const out, in = 8, 3
	// Packed rows r = 0, 1; byte = Σ_i (t_i+1) << 2i.
	packed := []byte{
		0b00_01_10_00, 0b10_10_10_10, 0, // r = 0: rows 0, 2, 4, 6
		0b01_01_01_01, 0b00_00_00_01, 0b10_00_01_10, // r = 1: rows 1, 3, 5, 7
	}
	want := [][]int8{
		{-1, 1, -1}, // row 0: bits 0..1 of r = 0
		{0, 0, 1},   // row 1: bits 0..1 of r = 1
		{1, 1, -1},  // row 2: bits 2..3 of r = 0
		{0, -1, 0},  // row 3
		{0, 1, -1},  // row 4: bits 4..5
		{0, -1, -1}, // row 5
		{-1, 1, -1}, // row 6: bits 6..7
		{0, -1, 1},  // row 7
	}
	got := make([]int8, out*in)
	if err := UnpackHF(got, packed, out, in); err != nil {
		t.Fatal(err)
	}
	for row := range out {
		if !equalCodes(got[row*in:(row+1)*in], want[row]) {
			t.Errorf("row %d = %v, want %v", row, got[row*in:(row+1)*in], want[row])
		}
	}
	repacked := make([]byte, len(packed))
	if err := PackHF(repacked, got, out, in); err != nil {
		t.Fatal(err)
	}
	if string(repacked) != string(packed) {
		t.Errorf("PackHF = %08b, want %08b", repacked, packed)
	}
}

func TestHFRoundTrip(t *testing.T) {
	r := newRand(2)
	for range 100 {
		out, in := 4*(1+r.IntN(40)), 1+r.IntN(70)
		codes := randomCodes(r, out*in)
		packed := make([]byte, out*in/4)
		if err := PackHF(packed, codes, out, in); err != nil {
			t.Fatal(err)
		}
		back := make([]int8, out*in)
		if err := UnpackHF(back, packed, out, in); err != nil {
			t.Fatal(err)
		}
		if !equalCodes(back, codes) {
			t.Fatalf("out=%d in=%d: round trip differs", out, in)
		}
	}
}

func TestUnpackHFRejectsCode3(t *testing.T) {
	err := UnpackHF(make([]int8, 4), []byte{0b11_00_00_00}, 4, 1)
	if !errors.Is(err, ErrValue) {
		t.Fatalf("err = %v, want ErrValue", err)
	}
}

func TestLinearClassScale(t *testing.T) {
	tests := []struct {
		class string
		ws    float32
		want  float32
		err   error
	}{
		// golden llama-ternary-tiny layer 0 q_proj: weight_scale 62.75 stored as 1/62.75.
		{"bitlinear", 62.75, 0.015936255, nil},
		{"", 62.75, 1 / float32(62.75), nil},
		{"BitLinear", 2, 0.5, nil},
		{"autobitlinear", 1.75, 1.75, nil},
		{"bitlinear", 0, 0, ErrValue},
		{"autobitlinear", -1, 0, ErrValue},
		{"bitlinear", 1e-45, 0, ErrValue}, // 1/ws overflows
		{"other", 1, 0, ErrValue},
	}
	for _, tt := range tests {
		c, err := ParseLinearClass(tt.class)
		var got float32
		if err == nil {
			got, err = c.Scale(tt.ws)
		}
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q %v: err = %v, want %v", tt.class, tt.ws, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q %v: got %v, %v; want %v", tt.class, tt.ws, got, err, tt.want)
		}
	}
	if BitLinear.String() != "bitlinear" || AutoBitLinear.String() != "autobitlinear" {
		t.Error("String spelling")
	}
}
