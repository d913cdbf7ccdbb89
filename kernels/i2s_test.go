package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestI2SVectors(t *testing.T) {
	// FORMATS.md §3 test vectors A and B.
	a := make([]int8, 128)
	for i := range a {
		a[i] = int8(i%3) - 1
	}
	got := packI2S(a)
	for i, b := range got {
		if want := []byte{0x24, 0x49, 0x92}[i%3]; b != want {
			t.Fatalf("vector A byte %d = %#x, want %#x", i, b, want)
		}
	}
	b := make([]int8, 128)
	b[0] = -1
	for i := 1; i < 128; i++ {
		switch {
		case i < 32:
			b[i] = 1
		case i < 64:
			b[i] = 0
		case i < 96:
			b[i] = -1
		default:
			b[i] = 1
		}
	}
	got = packI2S(b)
	if got[0] != 0x12 {
		t.Fatalf("vector B byte 0 = %#x", got[0])
	}
	for i := 1; i < 32; i++ {
		if got[i] != 0x92 {
			t.Fatalf("vector B byte %d = %#x", i, got[i])
		}
	}
	for i := range 128 {
		if c := i2sCode(got, i); c != int32(b[i])+1 {
			t.Fatalf("decode vector B code %d = %d, want %d", i, c, b[i]+1)
		}
	}
}

// FORMATS.md §4 worked example end to end.
func TestMatMulI2SWorkedExample(t *testing.T) {
	tern := make([]int8, 128)
	for i := range tern {
		tern[i] = int8(i%3) - 1
	}
	w := &I2S{M: 1, K: 128, Data: packI2S(tern), Scale: 0.25}
	x := make([]float32, 128)
	for k := range x {
		x[k] = 3 * float32(math.Sin(float64(float32(k))))
	}
	var a QActs
	a.Quantize(x, 1, 128)
	for _, path := range testPaths(t) {
		restore := path.enable()
		out := make([]float32, 1)
		MatMulI2S(nil, out, w, &a)
		restore()
		if want := float32(-7) / a.Scale[0] * 0.25; out[0] != want || math.Abs(float64(out[0])+0.0413381793) > 1e-8 {
			t.Fatalf("%s: out %v, want %v (-0.0413381793)", path.name, out[0], want)
		}
	}
}

// refMatMulI2S is the formula of FORMATS.md §4 on unpacked ternary values.
func refMatMulI2S(tern []int8, m, k int, wscale float32, a *QActs) []float32 {
	out := make([]float32, a.N*m)
	for n := 0; n < a.N; n++ {
		for r := 0; r < m; r++ {
			var s int32
			for c := 0; c < k; c++ {
				s += int32(tern[r*k+c]) * int32(a.Q[n*k+c])
			}
			out[n*m+r] = float32(s) / a.Scale[n] * wscale
		}
	}
	return out
}

type i2sCase struct {
	m, k, n int
	fill    string // "random", "zero", "extreme"
}

func i2sCases() []i2sCase {
	return []i2sCase{
		{1, 128, 1, "random"}, {4, 128, 1, "random"}, {8, 256, 3, "random"},
		{13, 384, 5, "random"}, {16, 512, 9, "extreme"}, {7, 1024, 4, "zero"},
		{12, 256, 12, "extreme"}, {16, 72, 3, "random"}, {16, 200, 2, "random"},
		{32, 540, 7, "extreme"}, {32, 4, 1, "random"}, {33, 640, 17, "random"},
		{40, 2560, 1, "extreme"}, {8, 384, 1, "extreme"}, {12, 640, 1, "random"}, {2, 8640, 2, "random"}, {8, 384, 8, "random"}, {20, 1024, 11, "zero"},
	}
}

func (c i2sCase) build(r *rand.Rand) (tern []int8, w *I2S, a *QActs) {
	tern = randTernary(r, c.m*c.k)
	a = &QActs{N: c.n, K: c.k, Q: randInt8(r, c.n*c.k), Scale: make([]float32, c.n)}
	for i := range a.Scale {
		a.Scale[i] = float32(r.Float64()*100 + 1)
	}
	switch c.fill {
	case "zero":
		for i := c.k; i < 2*c.k; i++ { // row 1 all zero weights
			tern[i] = 0
		}
		for i := 0; i < c.k; i++ { // token 0 all zero
			a.Q[i] = 0
		}
	case "extreme":
		for i := range a.Q {
			a.Q[i] = []int8{-128, 127}[r.IntN(2)]
		}
		for i := 0; i < c.k; i++ { // row 0 all +1 against -128
			tern[i] = 1
			a.Q[i] = -128
		}
		if c.m > 1 {
			for i := c.k; i < 2*c.k; i++ {
				tern[i] = -1
			}
		}
	}
	return tern, &I2S{M: c.m, K: c.k, Data: packI2S(tern), Scale: float32(r.Float64() + 0.1)}, a
}

func TestMatMulI2S(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pool := NewPool(3)
	defer pool.Close()
	for _, c := range i2sCases() {
		tern, w, a := c.build(r)
		if err := w.Validate(); err != nil {
			t.Fatal(err)
		}
		want := refMatMulI2S(tern, c.m, c.k, w.Scale, a)
		for _, path := range testPaths(t) {
			for _, p := range []*Pool{nil, pool} {
				name := fmt.Sprintf("%dx%d/n%d/%s/%s/threads%d", c.m, c.k, c.n, c.fill, path.name, p.Threads())
				t.Run(name, func(t *testing.T) {
					defer path.enable()()
					out := make([]float32, c.n*c.m)
					MatMulI2S(p, out, w, a)
					for i := range out {
						if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
							t.Fatalf("out[%d] (token %d row %d) = %v, want %v", i, i/c.m, i%c.m, out[i], want[i])
						}
					}
				})
			}
		}
	}
}

func TestMatMulI2SMulti(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pool := NewPool(2)
	defer pool.Close()
	const k, n = 256, 3
	a := &QActs{N: n, K: k, Q: randInt8(r, n*k), Scale: []float32{1, 2, 3}}
	var ws []*I2S
	var outs, wants [][]float32
	for _, m := range []int{8, 5, 12} {
		tern := randTernary(r, m*k)
		ws = append(ws, &I2S{M: m, K: k, Data: packI2S(tern), Scale: 0.5})
		outs = append(outs, make([]float32, n*m))
		wants = append(wants, refMatMulI2S(tern, m, k, 0.5, a))
	}
	for _, path := range testPaths(t) {
		restore := path.enable()
		MatMulI2SMulti(pool, outs, ws, a)
		restore()
		for i := range outs {
			for j := range outs[i] {
				if outs[i][j] != wants[i][j] {
					t.Fatalf("%s: matrix %d out[%d] = %v, want %v", path.name, i, j, outs[i][j], wants[i][j])
				}
			}
		}
	}
}

func TestI2SCode3(t *testing.T) {
	w := &I2S{M: 1, K: 128, Data: make([]byte, 32), Scale: 1}
	w.Data[5] = 0xff // codes 3: decoders treat them as t = 0
	if err := w.Validate(); err == nil {
		t.Fatal("Validate accepted code 3")
	}
	a := &QActs{N: 1, K: 128, Q: make([]int8, 128), Scale: []float32{1}}
	for i := range a.Q {
		a.Q[i] = 1
	}
	restore := setFlags(pathFlags{})
	defer restore()
	out := make([]float32, 1)
	MatMulI2S(nil, out, w, a)
	if want := float32(-124); out[0] != want { // 124 codes 0 (t=-1), 4 codes 3 (t=0)
		t.Fatalf("got %v, want %v", out[0], want)
	}
}

func TestI2SValidateShape(t *testing.T) {
	for _, w := range []*I2S{{M: 0, K: 128}, {M: 1, K: 128, Data: make([]byte, 31)}, {M: 1, K: 3}, {M: 3, K: 40, Data: make([]byte, 30)}} {
		if err := w.Validate(); err == nil {
			t.Errorf("Validate(%dx%d, %d bytes) = nil", w.M, w.K, len(w.Data))
		}
	}
}
