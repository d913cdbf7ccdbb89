package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refRow dequantizes row i straight from the ggml definitions.
func refRow(d *Dense, i int) []float32 {
	rb, _ := RowBytes(d.Type, d.K)
	row := d.Data[i*rb : (i+1)*rb]
	out := make([]float32, d.K)
	switch d.Type {
	case DF32:
		for k := range out {
			out[k] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*k:]))
		}
	case DF16:
		for k := range out {
			out[k] = f16ToF32(binary.LittleEndian.Uint16(row[2*k:]))
		}
	case DBF16:
		for k := range out {
			out[k] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(row[2*k:])) << 16)
		}
	case DQ8_0:
		for b := 0; b < d.K/32; b++ {
			blk := row[b*34:]
			dd := f16ToF32(binary.LittleEndian.Uint16(blk))
			for j := 0; j < 32; j++ {
				out[b*32+j] = dd * float32(int8(blk[2+j]))
			}
		}
	case DQ6_K: // ggml's dequantize_row_q6_K
		for b := 0; b < d.K/256; b++ {
			blk := row[b*210:]
			ql, qh, sc := blk[:128], blk[128:192], blk[192:208]
			dd := f16ToF32(binary.LittleEndian.Uint16(blk[208:]))
			y := out[b*256:]
			for n := 0; n < 256; n += 128 {
				for l := 0; l < 32; l++ {
					is := l / 16
					q1 := int8(ql[l]&0xF|(qh[l]>>0&3)<<4) - 32
					q2 := int8(ql[l+32]&0xF|(qh[l]>>2&3)<<4) - 32
					q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
					q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
					y[l] = dd * float32(int8(sc[is])) * float32(q1)
					y[l+32] = dd * float32(int8(sc[is+2])) * float32(q2)
					y[l+64] = dd * float32(int8(sc[is+4])) * float32(q3)
					y[l+96] = dd * float32(int8(sc[is+6])) * float32(q4)
				}
				y, ql, qh, sc = y[128:], ql[64:], qh[32:], sc[8:]
			}
		}
	}
	return out
}

func TestHalf(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.960464477539063e-08,
		0x03ff: 6.097555160522461e-05, 0x0400: 6.103515625e-05, 0x8001: -5.960464477539063e-08,
		0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)), 0x3555: 0.333251953125,
	}
	for h, want := range cases {
		if got := f16ToF32(h); got != want {
			t.Errorf("f16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if got := f16ToF32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("-0 became %v", got)
	}
	if got := f16ToF32(0x7e01); math.Float32bits(got) != 0x7fc02000 {
		t.Errorf("NaN payload lost: %#x", math.Float32bits(got))
	}
}

var denseTypes = []DType{DF32, DF16, DBF16, DQ8_0, DQ6_K}

func TestDenseRow(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, typ := range denseTypes {
		d := randDense(r, typ, 3, 512)
		for i := 0; i < d.M; i++ {
			got := make([]float32, d.K)
			d.Row(got, i)
			want := refRow(d, i)
			for k := range got {
				if math.Float32bits(got[k]) != math.Float32bits(want[k]) {
					t.Fatalf("%v row %d [%d] = %v, want %v", typ, i, k, got[k], want[k])
				}
			}
		}
	}
}

// refQ6KDot is the documented Q6_K dot product written from its definition:
// the token quantized per 256 values with the reference quantizer, codes
// and scales decoded with ggml's dequantize_row_q6_K loop structure, an
// exact integer sum per super-block, then acc += float32(d_w*d_a)*isum.
func refQ6KDot(d *Dense, i int, x []float32) float32 {
	rb, _ := RowBytes(d.Type, d.K)
	row := d.Data[i*rb : (i+1)*rb]
	var acc float32
	for b := 0; b < d.K/256; b++ {
		xb := x[b*256 : (b+1)*256]
		s := actScale(absMaxGeneric(xb))
		q := make([]int8, 256)
		quantizeRowGeneric(q, xb, s)
		blk := row[b*210:]
		ql, qh, sc := blk[:128], blk[128:192], blk[192:208]
		var code [256]int32
		var scale [256]int32
		for n := 0; n < 256; n += 128 {
			for l := 0; l < 32; l++ {
				is := l / 16
				code[n+l] = int32(ql[l]&0xF|(qh[l]>>0&3)<<4) - 32
				code[n+l+32] = int32(ql[l+32]&0xF|(qh[l]>>2&3)<<4) - 32
				code[n+l+64] = int32(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				code[n+l+96] = int32(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				for j := 0; j < 4; j++ {
					scale[n+l+32*j] = int32(int8(sc[is+2*j]))
				}
			}
			ql, qh, sc = ql[64:], qh[32:], sc[8:]
		}
		var isum int32
		for k := range code {
			isum += scale[k] * code[k] * int32(q[k])
		}
		f := f16ToF32(binary.LittleEndian.Uint16(blk[208:])) * (1 / s)
		acc += float32(f * float32(isum))
	}
	return acc
}

// refDot is the documented dense dot product, written from its definition
// (each product fused into its lane's sum with one exact rounding).
func refDot(w, x []float32) float32 {
	var acc [32]float32
	for k := range w {
		acc[k%32] = exactFMA32(w[k], x[k], acc[k%32])
	}
	for width := 16; width >= 1; width /= 2 {
		for i := 0; i < width; i++ {
			acc[i] += acc[i+width]
		}
	}
	return acc[0]
}

func TestMatMulDense(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pool := NewPool(2)
	defer pool.Close()
	type tc struct {
		typ     DType
		m, k, n int
	}
	var cases []tc
	for _, typ := range denseTypes {
		cases = append(cases, tc{typ, 9, 256, 1}, tc{typ, 16, 512, 3}, tc{typ, 1, 256, 2})
	}
	cases = append(cases, tc{DF32, 5, 37, 2}, tc{DF16, 7, 70, 1}, tc{DBF16, 6, 1, 3}, tc{DF16, 13, 2560, 1},
		tc{DF16, 18, 2560, 5}, tc{DF16, 14, 768, 8}, tc{DF32, 22, 64, 4}, tc{DBF16, 23, 96, 2},
		tc{DQ6_K, 21, 2560, 3}, tc{DQ6_K, 8, 256, 1})
	for _, c := range cases {
		d := randDense(r, c.typ, c.m, c.k)
		x := randFloats(r, c.n*c.k, 3)
		want := make([]float32, c.n*c.m)
		var f64err float64
		for m := 0; m < c.m; m++ {
			row := refRow(d, m)
			for n := 0; n < c.n; n++ {
				want[n*c.m+m] = refDot(row, x[n*c.k:])
				if c.typ == DQ6_K {
					want[n*c.m+m] = refQ6KDot(d, m, x[n*c.k:(n+1)*c.k])
				}
				var exact, mag float64
				for k := range row {
					exact += float64(row[k]) * float64(x[n*c.k+k])
					mag += math.Abs(float64(row[k]) * float64(x[n*c.k+k]))
				}
				e := math.Abs(exact - float64(want[n*c.m+m]))
				if c.typ == DQ6_K { // int8 activations: relative to Σ|w·x|
					e /= mag
				}
				f64err = math.Max(f64err, e)
			}
		}
		if tol := map[DType]float64{DQ6_K: 5e-3}[c.typ] + 1e-3; f64err > tol {
			t.Errorf("%v: the dot product drifts %v from float64", c.typ, f64err)
		}
		for _, path := range testPaths(t) {
			for _, p := range []*Pool{nil, pool} {
				t.Run(fmt.Sprintf("%v/%dx%d/n%d/%s/t%d", c.typ, c.m, c.k, c.n, path.name, p.Threads()), func(t *testing.T) {
					defer path.enable()()
					out := make([]float32, c.n*c.m)
					MatMulDense(p, out, d, x, c.n)
					for i := range out {
						if math.Float32bits(out[i]) != math.Float32bits(want[i]) {
							t.Fatalf("out[%d] = %v, want %v", i, out[i], want[i])
						}
					}
				})
			}
		}
	}
}

func TestDenseValidate(t *testing.T) {
	bad := []*Dense{
		{Type: DQ8_0, M: 1, K: 48, Data: make([]byte, 100)},
		{Type: DQ6_K, M: 1, K: 128, Data: make([]byte, 210)},
		{Type: DF16, M: 2, K: 4, Data: make([]byte, 15)},
		{Type: DType(9), M: 1, K: 4, Data: make([]byte, 16)},
	}
	for _, d := range bad {
		if err := d.Validate(); err == nil {
			t.Errorf("Validate(%v %dx%d, %d bytes) = nil", d.Type, d.M, d.K, len(d.Data))
		}
	}
}
