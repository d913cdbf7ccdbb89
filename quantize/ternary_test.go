package quantize

import (
	"errors"
	"math"
	"testing"
)

func TestAbsmean(t *testing.T) {
	tests := []struct {
		name      string
		w         []float32
		codes     []int8
		scale     float32
		wantError error
	}{
		// mean|W| = 1, s = 1: W·s = ±0.5 rounds half to even (0), 1.5 → 2 → clamp 1.
		{"half-even", []float32{0.5, -0.5, 1.5, -1.5}, []int8{0, 0, 1, -1}, 1, nil},
		{"basic", []float32{0.5, -1.5, 0.25, 0}, []int8{1, -1, 0, 0}, 1 / (1 / float32(0.5625)), nil},
		// All zero: mean floored at 1e-5, so s = 1e5 and the scale is float32(1/s).
		{"floor", []float32{0, 0, 0, 0}, []int8{0, 0, 0, 0}, 1 / (1 / float32(1e-5)), nil},
		{"tiny", []float32{1e-7, -3e-6, 0, 2e-6}, []int8{0, 0, 0, 0}, 1 / (1 / float32(1e-5)), nil},
		{"nan", []float32{1, float32(math.NaN())}, nil, 0, ErrValue},
		{"inf", []float32{float32(math.Inf(-1)), 1}, nil, 0, ErrValue},
		{"overflow", []float32{math.MaxFloat32, math.MaxFloat32}, nil, 0, ErrValue},
		{"empty", nil, nil, 0, ErrShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, scale, err := Absmean(tt.w)
			if tt.wantError != nil {
				if !errors.Is(err, tt.wantError) {
					t.Fatalf("err = %v, want %v", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalCodes(codes, tt.codes) || scale != tt.scale {
				t.Errorf("got %v scale %v, want %v scale %v", codes, scale, tt.codes, tt.scale)
			}
		})
	}
}

// TestAbsmeanMatchesFloat32Formula checks random tensors against the
// formula evaluated directly: scale = float32(1/s) and codes from the
// float32 product, with s derived from the float64 mean.
func TestAbsmeanMatchesFloat32Formula(t *testing.T) {
	r := newRand(1)
	for trial := range 50 {
		n := 1 + r.IntN(2000)
		w := make([]float32, n)
		amp := float32(math.Pow(10, -4+4*r.Float64()))
		for i := range w {
			w[i] = amp * float32(r.NormFloat64())
		}
		codes, scale, err := Absmean(w)
		if err != nil {
			t.Fatal(err)
		}
		s, err := AbsmeanFactor(w)
		if err != nil {
			t.Fatal(err)
		}
		if scale != 1/s {
			t.Fatalf("trial %d: scale %v != 1/s %v", trial, scale, 1/s)
		}
		var sum float64
		for _, x := range w {
			sum += math.Abs(float64(x))
		}
		mean := max(sum/float64(n), 1e-5)
		if d := math.Abs(float64(scale)-mean) / mean; d > 1e-6 {
			t.Fatalf("trial %d: scale %v vs mean|W| %v", trial, scale, mean)
		}
		for i, x := range w {
			want := math.Max(-1, math.Min(1, math.RoundToEven(float64(x*s))))
			if float64(codes[i]) != want {
				t.Fatalf("trial %d: code %d = %d, want %v (W·s = %v)", trial, i, codes[i], want, x*s)
			}
		}
	}
}

func TestTernaryDequantize(t *testing.T) {
	dst := make([]float32, 3)
	if err := TernaryDequantize(dst, []int8{-1, 0, 1}, 0.5); err != nil {
		t.Fatal(err)
	}
	if dst[0] != -0.5 || dst[1] != 0 || dst[2] != 0.5 {
		t.Errorf("got %v", dst)
	}
	if err := TernaryDequantize(dst, []int8{-1, 2, 1}, 0.5); !errors.Is(err, ErrValue) {
		t.Errorf("bad code: err = %v", err)
	}
}
