package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The portable path against the references on the shapes its loops split
// at: I2_S strips (64 rows), chunks (1024 columns) and token tiles (4);
// dense token tiles, partial groups, the one-token F16 row kernel, and
// inputs that leave the fast tests (tiny activations, half subnormals
// and zeros, products on float32 midpoints).

// withPath runs f with the flags of one path.
func withPath(f pathFlags, fn func()) {
	defer setFlags(f)()
	fn()
}

var (
	genericFlags  = pathFlags{}
	portableFlags = pathFlags{portable: true}
)

func TestPortableI2S(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	shapes := []struct{ m, k int }{
		{1, 128}, {64, 1024}, {65, 1152}, {130, 2560}, {7, 3072}, {3, 896}, {70, 200}, {5, 4},
	}
	for _, s := range shapes {
		for _, n := range []int{1, 3, 4, 5, 8, 13} {
			for _, fill := range []string{"random", "extreme", "zero"} {
				c := i2sCase{s.m, s.k, n, fill}
				if (s.m*s.k)%i2sBlock != 0 || fill == "zero" && s.m < 2 {
					continue
				}
				tern, w, a := c.build(r)
				want := refMatMulI2S(tern, c.m, c.k, w.Scale, a)
				got, gen := make([]float32, n*c.m), make([]float32, n*c.m)
				withPath(portableFlags, func() { i2sRowsFallback(got, w, a, tokensOf(a), 0, c.m) })
				withPath(genericFlags, func() { i2sRowsFallback(gen, w, a, tokensOf(a), 0, c.m) })
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) || gen[i] != want[i] {
						t.Fatalf("%dx%d n%d %s: out[%d] = %v, generic %v, want %v", c.m, c.k, n, fill, i, got[i], gen[i], want[i])
					}
				}
			}
		}
	}
}

// tokensOf is what i2sTask.set prepares for a.
func tokensOf(a *QActs) *i2sTokens {
	var j i2sTask
	j.set(a)
	return &j.tok
}

// TestPortableI2SCode3 checks that code 3, which Validate rejects, counts
// as t = 0 on the portable path too.
func TestPortableI2SCode3(t *testing.T) {
	r := rand.New(rand.NewPCG(53, 54))
	w := &I2S{M: 8, K: 1280, Data: make([]byte, 8*1280/4), Scale: 0.5}
	for i := range w.Data {
		w.Data[i] = byte(r.IntN(256)) // all four codes, 3 included
	}
	for _, n := range []int{1, 4, 6} {
		a := &QActs{N: n, K: w.K, Q: randInt8(r, n*w.K), Scale: make([]float32, n)}
		for i := range a.Scale {
			a.Scale[i] = 1 + float32(i)
		}
		got, want := make([]float32, n*w.M), make([]float32, n*w.M)
		withPath(portableFlags, func() { i2sRowsFallback(got, w, a, tokensOf(a), 0, w.M) })
		withPath(genericFlags, func() { i2sRowsFallback(want, w, a, tokensOf(a), 0, w.M) })
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("n%d out[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

// nearTieDense is an F16 matrix and activations of short significands,
// whose products and lane sums often land on float32 midpoints, with
// zeros, half subnormals and tiny activations mixed in.
func nearTieDense(r *rand.Rand, typ DType, m, k, n int, tiny bool) (*Dense, []float32) {
	d := randDense(r, typ, m, k)
	short := func() float32 {
		return float32(1+float64(r.IntN(64))/64) * float32(math.Ldexp(1, r.IntN(12)-6)) * float32(1-2*r.IntN(2))
	}
	if typ == DF16 {
		for i := 0; i < m*k; i++ {
			h := f32ToF16(short())
			switch r.IntN(16) {
			case 0:
				h = 0
			case 1:
				h = uint16(r.IntN(0x400)) | uint16(r.IntN(2))<<15 // subnormal
			}
			binary.LittleEndian.PutUint16(d.Data[2*i:], h)
		}
	}
	x := make([]float32, n*k)
	for i := range x {
		x[i] = short()
		if r.IntN(8) == 0 {
			x[i] *= 1.0 / (1 << 20) // 2^-20 below its neighbours: rounds in float64
		}
		if r.IntN(16) == 0 {
			x[i] = 0
		}
	}
	if tiny {
		x[r.IntN(len(x))] = 1e-30 // below 2^-54: the full test
	}
	return d, x
}

// tieDense puts every lane on a float32 midpoint reached by an inexact
// float64 sum: group 0 adds ±2^-64 (2^-14 · 2^-50, or 2^-80 when tiny),
// group 1 then adds (1+2^-7)(1+2^-17) = 1 + 2^-7 + 2^-17 + 2^-24, a
// midpoint, in whose float64 sum the ±2^-64 is lost (Q8_0: 2^-6·65 and
// 1+2^-18). Even rows have weights only in lane 0. Columns past 64 are
// random.
func tieDense(r *rand.Rand, typ DType, m, k, n int, tiny bool) (*Dense, []float32) {
	d := randDense(r, typ, m, k)
	x := randFloats(r, n*k, 1)
	w := [2]float32{1.0 / (1 << 14), 1 + 1.0/(1<<7)}
	xv := [2]float32{1.0 / (1 << 50), 1 + 1.0/(1<<17)}
	if typ == DQ8_0 {
		w[1], xv[1] = 1+1.0/(1<<6), 1+1.0/(1<<18)
	}
	if tiny {
		xv[0] = 1.0 / (1 << 66)
	}
	rb := d.rowBytes()
	for i := 0; i < m; i++ {
		row := d.Data[i*rb:]
		for j := 0; j < 64; j++ {
			v := w[j/32]
			if j%32 != 0 && i%2 == 0 {
				v = 0 // lane 0 alone: the sum of the lanes does not round its last bit away
			}
			switch typ {
			case DF32:
				binary.LittleEndian.PutUint32(row[4*j:], math.Float32bits(v))
			case DF16:
				binary.LittleEndian.PutUint16(row[2*j:], f32ToF16(v))
			case DBF16:
				binary.LittleEndian.PutUint16(row[2*j:], uint16(math.Float32bits(v)>>16))
			case DQ8_0:
				blk := row[j/32*q80Bytes:]
				binary.LittleEndian.PutUint16(blk, f32ToF16([2]float32{1.0 / (1 << 14), 1.0 / (1 << 6)}[j/32]))
				blk[2+j%32] = [2]byte{1, 65}[j/32]
				if v == 0 {
					blk[2+j%32] = 0
				}
			}
		}
	}
	for t := 0; t < n; t++ {
		for j := 0; j < 64; j++ {
			x[t*k+j] = xv[j/32]
			if j < 32 { // the side of the midpoint; group 1 keeps one sign, so lanes do not cancel
				x[t*k+j] *= float32(1 - 2*r.IntN(2))
			}
		}
	}
	return d, x
}

func TestPortableDense(t *testing.T) {
	r := rand.New(rand.NewPCG(55, 56))
	type tc struct {
		typ     DType
		m, k, n int
	}
	var cases []tc
	for _, typ := range []DType{DF32, DF16, DBF16, DQ8_0} {
		cases = append(cases, tc{typ, 5, 2560, 1}, tc{typ, 6, 512, 5}, tc{typ, 3, 96, 9})
	}
	cases = append(cases, tc{DF16, 4, 33, 1}, tc{DF16, 3, 1, 2}, tc{DF32, 4, 70, 4}, tc{DBF16, 2, 31, 3},
		tc{DQ6_K, 5, 512, 1}, tc{DQ6_K, 3, 2560, 6})
	for _, typ := range []DType{DF32, DF16, DBF16, DQ8_0} {
		cases = append(cases, tc{typ, 3, -64, 1}, tc{typ, 2, -96, 3})
	}
	ties := 0 // outputs where rounding twice would differ: the data reach the slow path
	for _, c := range cases {
		for _, tiny := range []bool{false, true} {
			name := fmt.Sprintf("%v/%dx%d/n%d/tiny%v", c.typ, c.m, c.k, c.n, tiny)
			var d *Dense
			var x []float32
			if c.k < 0 {
				c.k = -c.k
				d, x = tieDense(r, c.typ, c.m, c.k, c.n, tiny)
			} else {
				d, x = nearTieDense(r, c.typ, c.m, c.k, c.n, tiny)
			}
			got, want := make([]float32, c.n*c.m), make([]float32, c.n*c.m)
			for _, p := range []struct {
				f   pathFlags
				out []float32
			}{{portableFlags, got}, {genericFlags, want}} {
				withPath(p.f, func() { MatMulDense(nil, p.out, d, x, c.n) })
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: out[%d] = %v, want %v", name, i, got[i], want[i])
				}
				if c.typ != DQ6_K && doubleRoundedDot(refRow(d, i%c.m), x[i/c.m*c.k:(i/c.m+1)*c.k]) != want[i] {
					ties++
				}
			}
		}
	}
	t.Logf("%d outputs depend on the single rounding", ties)
	if ties == 0 {
		t.Fatal("no output depends on the single rounding: the data miss the slow path")
	}
}

// doubleRoundedDot is refDot with float32(float64 a*b + c) for the fused
// multiply-add: what fmaFast would give without its slow path.
func doubleRoundedDot(w, x []float32) float32 {
	var acc [32]float32
	for k := range w {
		acc[k%32] = float32(float64(w[k])*float64(x[k]) + float64(acc[k%32]))
	}
	return dotReduce(&acc)
}

func TestPortableAttentionOps(t *testing.T) {
	r := rand.New(rand.NewPCG(57, 58))
	for _, k := range []int{1, 31, 32, 33, 64, 100, 128} {
		const n, stride = 7, 160
		rows := make([]float32, n*stride)
		for i := range rows {
			rows[i] = float32(1+float64(r.IntN(64))/64) * float32(math.Ldexp(1, r.IntN(40)-20))
			if r.IntN(10) == 0 {
				rows[i] = math.Float32frombits(r.Uint32() & 0x807fffff) // subnormal
			}
		}
		x := randFloats(r, k, 1)
		got, want := make([]float32, n), make([]float32, n)
		dotRowsPortable(got, rows, stride, x, n)
		dotRowsGeneric(want, rows, stride, x, n)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("dotRows k=%d: out[%d] = %v, want %v", k, i, got[i], want[i])
			}
		}
		w := make([]float32, n)
		for i := range w {
			w[i] = math.Float32frombits(r.Uint32() & 0x3fffffff) // down to subnormal
		}
		og, ow := make([]float32, k), make([]float32, k)
		weightedSumPortable(og, rows, stride, w)
		weightedSumGeneric(ow, rows, stride, w)
		for i := range og {
			if math.Float32bits(og[i]) != math.Float32bits(ow[i]) {
				t.Fatalf("weightedSum k=%d: o[%d] = %v, want %v", k, i, og[i], ow[i])
			}
		}
	}
}

func TestPortableQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(59, 60))
	for _, n := range []int{0, 1, 3, 4, 5, 127, 2560} {
		x := randFloats(r, n, 10)
		for i := range x {
			if r.IntN(4) == 0 { // land on .5 after scaling by 127/10-ish
				x[i] = float32(r.IntN(255)-127) / 2
			}
		}
		q1, q2 := make([]int8, n), make([]int8, n)
		s1, s2 := quantizeActsPortable(q1, x), quantizeActsGeneric(q2, x)
		if s1 != s2 || string(int8Bytes(q1)) != string(int8Bytes(q2)) {
			t.Fatalf("n=%d: scale %v vs %v, q differ", n, s1, s2)
		}
	}
}
