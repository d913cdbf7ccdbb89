package quantize

import (
	"encoding/binary"
	"math"

	"github.com/x448/float16"
)

// Q6_K (ggml block_q6_K): super-blocks of 256 values in 16 sub-blocks of 16,
// stored as ql[128] (low 4 bits of the 6-bit quants), qh[64] (high 2 bits),
// scales[16] (int8, one per sub-block) and an F16 super-scale d: 210 bytes.
// value = d · scales[sub] · (q − 32), q ∈ [0, 63].
//
// Within each half of 128 values (ql advancing by 64, qh by 32, scales by 8),
// value l+32·s (s = 0..3, l = 0..31) keeps its low nibble in
// ql[l + 32·(s&1)] (low nibble for s < 2, high for s ≥ 2) and its high two
// bits in qh[l] at bits 2s..2s+1; its scale is scales[l/16 + 2s].
const (
	qkK           = 256
	q6KBlockBytes = qkK/2 + qkK/4 + qkK/16 + 2
	groupMaxEps   = float32(1e-15) // ggml's GROUP_MAX_EPS
)

// QuantizeQ6K quantizes src (a multiple of 256 values) into dst
// (len(src)/256·210 bytes) following ggml's quantize_row_q6_K_ref: per
// sub-block make_qx_quants(16, 32, rmse_type 1) picks the scale minimising
// the x²-weighted error among 19 candidates; the sub-block scales are then
// quantized to int8 against the largest one and the values re-quantized with
// the rounded scales. All arithmetic is float32 in the source's order; every
// multiply-add is rounded separately (no FMA contraction, which a compiler
// building ggml may apply and which can flip a near-tie between candidate
// scales, so bit-identity with a given ggml build is not guaranteed; the
// error bounds are). NaN/Inf inputs are errors.
func QuantizeQ6K(dst []byte, src []float32) error {
	const op = "QuantizeQ6K"
	nb, err := blocks(op, len(src), qkK)
	if err != nil {
		return err
	}
	if err := needLen(op, shapeN(len(src)), "dst bytes", len(dst), nb*q6KBlockBytes); err != nil {
		return err
	}
	if err := checkFinite(op, src); err != nil {
		return err
	}
	var L [qkK]int8
	var scales [qkK / 16]float32
	for i := range nb {
		x := src[i*qkK : (i+1)*qkK]
		y := dst[i*q6KBlockBytes : (i+1)*q6KBlockBytes]
		ql, qh, sc := y[:128], y[128:192], y[192:208]

		var maxScale, maxAbsScale float32
		for ib := range qkK / 16 {
			s := makeQXQuants(x[16*ib:16*ib+16], L[16*ib:16*ib+16])
			scales[ib] = s
			if a := abs32(s); a > maxAbsScale {
				maxAbsScale, maxScale = a, s
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(y)
			continue
		}
		iscale := -128 / maxScale
		d16 := float16.Fromfloat32(1 / iscale)
		binary.LittleEndian.PutUint16(y[208:], d16.Bits())
		for ib := range qkK / 16 {
			sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		d := d16.Float32()
		for j := range qkK / 16 {
			dj := d * float32(int8(sc[j]))
			if dj == 0 {
				continue // ggml keeps make_qx_quants' codes for this sub-block
			}
			for ii := range 16 {
				l := nearestInt(x[16*j+ii] / dj)
				L[16*j+ii] = int8(max(-32, min(31, l)) + 32)
			}
		}
		for h := range 2 { // two halves of 128 values
			Lh, qlh, qhh := L[128*h:], ql[64*h:], qh[32*h:]
			for l := range 32 {
				q1, q2, q3, q4 := uint8(Lh[l]), uint8(Lh[l+32]), uint8(Lh[l+64]), uint8(Lh[l+96])
				qlh[l] = q1&15 | (q3&15)<<4
				qlh[l+32] = q2&15 | (q4&15)<<4
				qhh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
	return nil
}

// makeQXQuants is ggml's make_qx_quants for n = 16, nmax = 32, rmse_type 1
// (weights x²) and no importance matrix: it writes the codes l+32 into L and
// returns the chosen sub-block scale.
func makeQXQuants(x []float32, L []int8) float32 {
	const nmax = 32
	var maxv, amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	if amax < groupMaxEps {
		for i := range L {
			L[i] = 0
		}
		return 0
	}
	sums := func(iscale float32, store bool) (sumlx, suml2 float32) {
		for i, v := range x {
			l := max(-nmax, min(nmax-1, nearestInt(iscale*v)))
			if store {
				L[i] = int8(l + nmax)
			}
			fl := float32(l)
			w := float32(v * v)
			// Explicit conversions keep each product rounded, as the C source
			// reads, and stop Go from fusing them into the sums.
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		return sumlx, suml2
	}
	iscale := -nmax / maxv
	sumlx, suml2 := sums(iscale, true)
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(nmax + float32(0.1)*float32(is)) / maxv
		sumlx, suml2 = sums(iscale, false)
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			sums(iscale, true)
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// nearestInt is ggml's nearest_int: add 1.5·2^23 in float32 and read the
// mantissa, i.e. round half to even for |x| < 2^22, and the same wrapped
// garbage as ggml beyond (always clamped by the callers).
func nearestInt(x float32) int {
	v := x + 12582912
	i := int32(math.Float32bits(v))
	return int((i & 0x007fffff) - 0x00400000)
}

// DequantizeQ6K expands Q6_K super-blocks (len(dst)/256·210 bytes) into dst
// as ggml's dequantize_row_q6_K does: (d·scale)·(q−32) in float32.
func DequantizeQ6K(dst []float32, src []byte) error {
	const op = "DequantizeQ6K"
	nb, err := blocks(op, len(dst), qkK)
	if err != nil {
		return err
	}
	if err := needLen(op, shapeN(len(dst)), "src bytes", len(src), nb*q6KBlockBytes); err != nil {
		return err
	}
	for i := range nb {
		b := src[i*q6KBlockBytes : (i+1)*q6KBlockBytes]
		d := float16.Frombits(binary.LittleEndian.Uint16(b[208:])).Float32()
		y := dst[i*qkK : (i+1)*qkK]
		for h := range 2 {
			ql, qh, sc, yh := b[64*h:], b[128+32*h:], b[192+8*h:], y[128*h:]
			for l := range 32 {
				is := l / 16
				q1 := int8(ql[l]&15|(qh[l]&3)<<4) - 32
				q2 := int8(ql[l+32]&15|(qh[l]>>2&3)<<4) - 32
				q3 := int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
				q4 := int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
				yh[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
				yh[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
				yh[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
				yh[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
			}
		}
	}
	return nil
}
