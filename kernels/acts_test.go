package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FORMATS.md §4 worked example.
func TestQuantizeActsWorkedExample(t *testing.T) {
	x := make([]float32, 128)
	for k := range x {
		x[k] = 3 * float32(math.Sin(float64(float32(k))))
	}
	q := make([]int8, 128)
	s := QuantizeActs(q, x)
	if math.Abs(float64(s)-42.3337479) > 1e-5 {
		t.Fatalf("scale %v, want 42.3337479", s)
	}
	want := []int8{0, 107, 115, 18, -96, -122, -35, 83, 126, 52, -69, -127, -68, 53, 126, 83}
	for i, v := range want {
		if q[i] != v {
			t.Fatalf("q[%d] = %d, want %d (q = %v)", i, q[i], v, q[:16])
		}
	}
	if got := sumInt8(q); got != 153 {
		t.Fatalf("Σq = %d, want 153", got)
	}
}

// refQuantize is FORMATS.md §4 spelled out independently.
func refQuantize(x []float32) ([]int8, float32) {
	m := 1e-5
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	s := float32(127 / m)
	q := make([]int8, len(x))
	for i, v := range x {
		r := math.RoundToEven(float64(v * s))
		q[i] = int8(math.Max(-128, math.Min(127, r)))
	}
	return q, s
}

func actsCases(r *rand.Rand) map[string][]float32 {
	cases := map[string][]float32{
		"empty":    {},
		"zeros":    make([]float32, 77),
		"tiny":     {1e-7, -3e-6, 2e-6},
		"one":      {-2.5},
		"halfway":  {127, 0.5, 1.5, 2.5, -0.5, -1.5, 63.5, -63.5},
		"maxneg":   {-1, 1, -1, 0.25},
		"random":   randFloats(r, 2560, 4),
		"odd len":  randFloats(r, 131, 100),
		"huge":     randFloats(r, 300, 1e30),
		"subnorm":  {1e-40, -1e-39},
		"len 63":   randFloats(r, 63, 1),
		"outliers": append(randFloats(r, 200, 0.01), 50, -49.99),
	}
	return cases
}

func TestQuantizeActs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for name, x := range actsCases(r) {
		for _, path := range testPaths(t) {
			t.Run(name+"/"+path.name, func(t *testing.T) {
				defer path.enable()()
				wantQ, wantS := refQuantize(x)
				q := make([]int8, len(x))
				s := QuantizeActs(q, x)
				if math.Float32bits(s) != math.Float32bits(wantS) {
					t.Fatalf("scale %v, want %v", s, wantS)
				}
				for i := range q {
					if q[i] != wantQ[i] {
						t.Fatalf("q[%d] = %d, want %d (x = %v)", i, q[i], wantQ[i], x[i])
					}
				}
			})
		}
	}
}

func TestQActsQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var a QActs
	for _, n := range []int{3, 1, 5} {
		x := randFloats(r, n*40, 2)
		a.Quantize(x, n, 40)
		if a.N != n || a.K != 40 || len(a.Q) != n*40 || len(a.Scale) != n {
			t.Fatalf("n=%d: got N=%d K=%d len(Q)=%d len(Scale)=%d", n, a.N, a.K, len(a.Q), len(a.Scale))
		}
		for i := 0; i < n; i++ {
			q, s := refQuantize(x[i*40 : (i+1)*40])
			if s != a.Scale[i] || string(int8Bytes(q)) != string(int8Bytes(a.Q[i*40:(i+1)*40])) {
				t.Fatalf("n=%d token %d differs", n, i)
			}
		}
	}
}

func int8Bytes(q []int8) []byte {
	b := make([]byte, len(q))
	for i, v := range q {
		b[i] = byte(v)
	}
	return b
}

// TestSumInt8Paths checks every path's Σq against a plain sum, on lengths
// around the vector width and on all -128 and all 127 (the extremes).
func TestSumInt8Paths(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	var inputs [][]int8
	for _, n := range []int{1, 63, 64, 65, 128, 768, 6912, 6913} {
		inputs = append(inputs, randInt8(r, n))
	}
	lo, hi := make([]int8, 8192), make([]int8, 8192)
	for i := range lo {
		lo[i], hi[i] = -128, 127
	}
	inputs = append(inputs, lo, hi)
	for _, q := range inputs {
		var want int32
		for _, v := range q {
			want += int32(v)
		}
		for _, path := range testPaths(t) {
			func() {
				defer path.enable()()
				if got := sumInt8(q); got != want {
					t.Errorf("%s: Σq of %d bytes = %d, want %d", path.name, len(q), got, want)
				}
			}()
		}
	}
}
