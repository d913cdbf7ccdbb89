package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestRMSNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := randFloats(r, 2560, 5)
	w := randFloats(r, 2560, 1)
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	inv := 1 / math.Sqrt(ss/2560+1e-5)
	dst := make([]float32, len(x))
	RMSNorm(dst, x, w, 1e-5)
	for i := range dst {
		if !near(float64(dst[i]), float64(x[i])*inv*float64(w[i]), 1e-5) {
			t.Fatalf("dst[%d] = %v, want %v", i, dst[i], float64(x[i])*inv*float64(w[i]))
		}
	}
	RMSNorm(x, x, w, 1e-5) // aliasing
	for i := range x {
		if x[i] != dst[i] {
			t.Fatalf("aliased result differs at %d", i)
		}
	}
	z := make([]float32, 4)
	RMSNorm(z, z, []float32{1, 1, 1, 1}, 1e-6)
	for _, v := range z {
		if v != 0 {
			t.Fatal("zero row not zero")
		}
	}
}

// TestRMSMean checks that the unordered sum of squares gives ggml's ordered
// mean whenever it claims to, and that it declines a mean on a float32
// rounding boundary and non-finite sums.
func TestRMSMean(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	// Squares 1, 1, 1, 1+2⁻²² sum to 4+2⁻²²: a mean of 1+2⁻²⁴, halfway
	// between two float32s, which only the ordered sum can round.
	tie := []float32{1, 1, 1, 1 + 0x1p-23}
	cases := []struct {
		name     string
		x        []float32
		mustFast bool // the unordered path must decide
	}{
		{"one", []float32{3}, true},
		{"zeros", make([]float32, 40), true},
		{"tie", tie, false},
		{"tie in a long row", append(append(make([]float32, 0, 36), tie...), make([]float32, 32)...), false},
		{"overflow", []float32{1e20, 1}, false},
		{"inf", []float32{1, float32(math.Inf(-1)), 2}, false},
		{"nan", append(randFloats(r, 20, 1), float32(math.NaN())), false},
		{"subnormal", []float32{1e-40, -3e-42, 0, 1e-45}, true},
		{"wide range", []float32{1e18, 1e-18, -7e10, 3, 1e-30, 2e17, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, true},
	}
	for _, n := range []int{1, 3, 15, 16, 17, 33, 100, 2560, 6912} {
		for _, scale := range []float64{1e-3, 1, 300} {
			cases = append(cases, struct {
				name     string
				x        []float32
				mustFast bool
			}{fmt.Sprintf("random %d×%g", n, scale), randFloats(r, n, scale), false})
		}
	}
	fast := 0
	for _, c := range cases {
		want := rmsMeanGeneric(c.x)
		m, ok := rmsMeanVector(c.x)
		if ok {
			fast++
			if math.Float32bits(m) != math.Float32bits(want) {
				t.Errorf("%s: vector mean %g, ordered %g", c.name, m, want)
			}
		} else if c.mustFast {
			t.Errorf("%s: vector path declined", c.name)
		}
		if got := rmsMean(c.x); math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Errorf("%s: rmsMean %g, want %g", c.name, got, want)
		}
		if c.name == "tie" && ok {
			t.Errorf("tie: vector path decided a mean on a rounding boundary")
		}
	}
	if fast < len(cases)-6 {
		t.Errorf("vector path decided only %d of %d rows", fast, len(cases))
	}
}

func TestRoPE(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	const heads, hd = 3, 16
	for _, neox := range []bool{false, true} {
		x := randFloats(r, heads*hd, 1)
		y := append([]float32(nil), x...)
		RoPE(y, heads, hd, hd, 0, 10000, neox)
		for i := range y {
			if y[i] != x[i] {
				t.Fatalf("neox=%v: position 0 changed x[%d]", neox, i)
			}
		}
		const pos, ropeDim = 7, 8
		RoPE(y, heads, hd, ropeDim, pos, 10000, neox)
		for h := 0; h < heads; h++ {
			for i := 0; i < ropeDim/2; i++ {
				i0, i1 := h*hd+2*i, h*hd+2*i+1
				if neox {
					i0, i1 = h*hd+i, h*hd+i+ropeDim/2
				}
				th := pos * math.Pow(10000, -2*float64(i)/ropeDim)
				a, b := float64(x[i0]), float64(x[i1])
				if !near(float64(y[i0]), a*math.Cos(th)-b*math.Sin(th), 1e-6) || !near(float64(y[i1]), a*math.Sin(th)+b*math.Cos(th), 1e-6) {
					t.Fatalf("neox=%v head %d pair %d: got %v,%v", neox, h, i, y[i0], y[i1])
				}
			}
			for i := ropeDim; i < hd; i++ { // past ropeDim untouched
				if j := h*hd + i; y[j] != x[j] {
					t.Fatalf("neox=%v: dim %d of head %d rotated", neox, i, h)
				}
			}
		}
	}
}

func TestSoftmax(t *testing.T) {
	x := []float32{1, 2, 3, -1000, 1000.5}
	Softmax(x)
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	if !near(s, 1, 1e-6) || x[4] < 0.999 || x[3] != 0 {
		t.Fatalf("softmax %v", x)
	}
	Softmax(nil)
	y := []float32{5}
	Softmax(y)
	if y[0] != 1 {
		t.Fatalf("single element %v", y[0])
	}
}

func TestGates(t *testing.T) {
	g := []float32{-2, 0, 0.5, 3}
	u := []float32{1, 2, -3, 4}
	dst := make([]float32, 4)
	SiLUMul(dst, g, u)
	for i := range g {
		want := float64(g[i]) / (1 + math.Exp(-float64(g[i]))) * float64(u[i])
		if !near(float64(dst[i]), want, 1e-6) {
			t.Fatalf("silu[%d] = %v, want %v", i, dst[i], want)
		}
	}
	ReLU2Mul(dst, g, u)
	if want := []float32{0, 0, -0.75, 36}; dst[0] != want[0] || dst[1] != want[1] || dst[2] != want[2] || dst[3] != want[3] {
		t.Fatalf("relu2 %v, want %v", dst, want)
	}
	Add(dst, u)
	if dst[3] != 40 {
		t.Fatalf("add %v", dst)
	}
}

func TestAttention(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	const nPos, nHeads, nKV, hd = 9, 4, 2, 8
	q := randFloats(r, nHeads*hd, 1)
	k := randFloats(r, nPos*nKV*hd, 1)
	v := randFloats(r, nPos*nKV*hd, 1)
	out := make([]float32, nHeads*hd)
	scale := float32(1 / math.Sqrt(hd))
	Attention(out, q, k, v, nPos, nHeads, nKV, hd, scale, make([]float32, nPos))
	for h := 0; h < nHeads; h++ {
		kv := h / (nHeads / nKV)
		var sc [nPos]float64
		var mx, sum float64 = -math.MaxFloat64, 0
		for p := 0; p < nPos; p++ {
			for d := 0; d < hd; d++ {
				sc[p] += float64(q[h*hd+d]) * float64(k[p*nKV*hd+kv*hd+d])
			}
			sc[p] *= float64(scale)
			mx = math.Max(mx, sc[p])
		}
		for p := range sc {
			sc[p] = math.Exp(sc[p] - mx)
			sum += sc[p]
		}
		for d := 0; d < hd; d++ {
			var o float64
			for p := 0; p < nPos; p++ {
				o += sc[p] / sum * float64(v[p*nKV*hd+kv*hd+d])
			}
			if !near(float64(out[h*hd+d]), o, 1e-5) {
				t.Fatalf("head %d dim %d: %v, want %v", h, d, out[h*hd+d], o)
			}
		}
	}
}

// TestAttentionPaths runs every implementation against the reference, bit
// for bit, for head sizes with and without vector paths and position counts
// that leave partial row groups, and checks that a head range writes only
// its heads.
func TestAttentionPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct{ nPos, nHeads, nKV, hd int }{
		{1, 4, 4, 128}, {5, 20, 5, 128}, {8, 2, 2, 64}, {16, 2, 1, 32}, {37, 8, 2, 64}, {70, 4, 4, 64}, {9, 4, 2, 8}, {3, 2, 1, 96},
	} {
		q := randFloats(r, c.nHeads*c.hd, 2)
		k := randFloats(r, c.nPos*c.nKV*c.hd, 2)
		v := randFloats(r, c.nPos*c.nKV*c.hd, 2)
		scale := float32(1 / math.Sqrt(float64(c.hd)))
		var want []float32
		for _, path := range testPaths(t) {
			func() {
				defer path.enable()()
				out := make([]float32, c.nHeads*c.hd)
				Attention(out, q, k, v, c.nPos, c.nHeads, c.nKV, c.hd, scale, make([]float32, c.nPos))
				if want == nil {
					want = out
					return
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%+v %s: out[%d] = %v, want %v", c, path.name, i, out[i], want[i])
					}
				}
				// Heads [h0, nHeads) only, on the same cache and on a
				// head-major copy with spare capacity.
				h0 := c.nHeads / 2
				capN := c.nPos + 3
				kh, vh := make([]float32, c.nKV*capN*c.hd), make([]float32, c.nKV*capN*c.hd)
				for p := 0; p < c.nPos; p++ {
					for g := 0; g < c.nKV; g++ {
						copy(kh[(g*capN+p)*c.hd:][:c.hd], k[(p*c.nKV+g)*c.hd:])
						copy(vh[(g*capN+p)*c.hd:][:c.hd], v[(p*c.nKV+g)*c.hd:])
					}
				}
				for _, lay := range []struct {
					k, v []float32
					l    KVLayout
				}{
					{k, v, KVLayout{HeadStride: c.hd, PosStride: c.nKV * c.hd}},
					{kh, vh, KVLayout{HeadStride: capN * c.hd, PosStride: c.hd}},
				} {
					part := make([]float32, c.nHeads*c.hd)
					AttentionHeads(part, q, lay.k, lay.v, c.nPos, c.nHeads, c.nKV, c.hd, lay.l, scale, make([]float32, c.nPos), h0, c.nHeads)
					for i := range part {
						if i < h0*c.hd && part[i] != 0 || i >= h0*c.hd && part[i] != want[i] {
							t.Fatalf("%+v %s %+v: heads [%d, %d): out[%d] = %v", c, path.name, lay.l, h0, c.nHeads, i, part[i])
						}
					}
				}
			}()
		}
	}
}

// TestSiLUMulPaths checks every implementation against the reference bit
// for bit (lengths with and without a scalar tail, values past the clamps)
// and the reference against float64.
func TestSiLUMulPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	negZero := float32(math.Copysign(0, -1))
	for _, n := range []int{1, 7, 8, 37, 2048} {
		gate := randFloats(r, n, 6)
		up := randFloats(r, n, 2)
		for i, v := range []float32{0, negZero, 87, -87, 88, -88, 100, -100, 1e-30, -1e-30} {
			if i < n {
				gate[i] = v
			}
		}
		var want []float32
		for _, path := range testPaths(t) {
			func() {
				defer path.enable()()
				out := make([]float32, n)
				SiLUMul(out, gate, up)
				if want == nil {
					want = out
					for i, g := range gate {
						exact := float64(g) / (1 + math.Exp(-float64(g))) * float64(up[i])
						if !near(float64(out[i]), exact, 1e-6) {
							t.Fatalf("silu(%v)*%v = %v, want %v", g, up[i], out[i], exact)
						}
					}
					return
				}
				for i := range out {
					if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
						t.Fatalf("n=%d %s: out[%d] = %v (gate %v), want %v", n, path.name, i, out[i], gate[i], want[i])
					}
				}
			}()
		}
	}
}

// TestElementwisePaths checks the gate, the residual add, RMSNorm and RoPE
// of every implementation against the reference bit for bit, on lengths
// with and without a scalar tail and on signed zeros, infinities, NaN and
// subnormals.
func TestElementwisePaths(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	edges := []float32{0, float32(math.Copysign(0, -1)), inf, -inf, nan, 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	input := func(n int, scale float64, withEdges bool) []float32 {
		x := randFloats(r, n, scale)
		if withEdges {
			for i := range x {
				if r.IntN(4) == 0 {
					x[i] = edges[r.IntN(len(edges))]
				}
			}
		}
		return x
	}
	ops := []struct {
		name string
		run  func(n int, edges bool) []float32
	}{
		{"ReLU2Mul", func(n int, e bool) []float32 {
			g, u := input(n, 3, e), input(n, 2, e)
			ReLU2Mul(g, g, u) // aliased, as the runtime calls it
			return g
		}},
		{"Add", func(n int, e bool) []float32 {
			d, x := input(n, 3, e), input(n, 2, e)
			Add(d, x)
			return d
		}},
		{"RMSNorm", func(n int, e bool) []float32 {
			x, w := input(n, 3, false), input(n, 2, e)
			dst := make([]float32, n)
			RMSNorm(dst, x, w, 1e-6)
			return dst
		}},
		{"RoPE", func(n int, e bool) []float32 {
			var out []float32
			for _, neox := range []bool{false, true} {
				for _, ropeDim := range []int{n &^ 1, n/2&^1 + 2, 16} {
					x := input(3*max(n, 16), 2, e)
					RoPE(x, 3, max(n, 16), min(ropeDim, max(n, 16)), 1000+n, 10000, neox)
					out = append(out, x...)
				}
			}
			return out
		}},
	}
	for _, op := range ops {
		for _, n := range []int{1, 7, 8, 24, 37, 128, 2560} {
			for _, e := range []bool{false, true} {
				var want []float32
				for _, path := range testPaths(t) {
					func() {
						defer path.enable()()
						r = rand.New(rand.NewPCG(uint64(n), 25)) // the same inputs on every path
						got := op.run(n, e)
						if want == nil {
							want = got
							return
						}
						for i := range got {
							nan := got[i] != got[i] && want[i] != want[i] // NaN payloads may differ
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !nan {
								t.Fatalf("%s n=%d edges=%v %s: [%d] = %v, want %v", op.name, n, e, path.name, i, got[i], want[i])
							}
						}
					}()
				}
			}
		}
	}
}

// TestPrefetchL2 checks that the hint accepts any length and changes nothing.
func TestPrefetchL2(t *testing.T) {
	x := randFloats(rand.New(rand.NewPCG(26, 27)), 1000, 1)
	want := append([]float32(nil), x...)
	for _, n := range []int{0, 1, 15, 16, 17, 1000} {
		PrefetchL2(x[:n])
	}
	PrefetchL2(nil)
	for i := range x {
		if x[i] != want[i] {
			t.Fatalf("x[%d] changed", i)
		}
	}
}
