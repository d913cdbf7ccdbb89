package convert

import (
	"fmt"
	"math"
	"math/bits"
)

// absmeanTorch is absmean ternarization (FORMATS.md §2) with mean|W|
// summed exactly as PyTorch sums a contiguous float32 tensor on an AVX2 CPU
// with one thread (ATen's cascade_sum: 8-lane vectors, 4-way ILP, four
// levels of partial sums). bitnet.cpp's converters compute the scale with
// torch, so this makes our I2_S/TL scales — and the F32 values t/s —
// bit-identical to theirs; a correctly rounded sum differs in the last ulp
// for about one tensor in four (measured on shared/golden: 28/28 scales
// equal with this sum, 21/28 with a float64 sum).
//
// TODO(quantize): this belongs in quantize.Absmean; it lives here until the
// quantize package adopts it.
func absmeanTorch(codes []int8, w []float32) (float32, error) {
	if len(w) == 0 || len(codes) != len(w) {
		return 0, fmt.Errorf("absmean: %d codes for %d weights", len(codes), len(w))
	}
	sum := torchAbsSum(w)
	mean := sum / float32(len(w))
	if math.IsInf(float64(mean), 0) || math.IsNaN(float64(mean)) {
		return 0, fmt.Errorf("absmean: mean |w| is %v", mean)
	}
	mean = max(mean, 1e-5)
	s := 1 / mean
	for i, v := range w {
		// clamp(round_half_even(x), -1, 1) is sign(x) for |x| > 0.5 and 0
		// otherwise (±0.5 rounds to even, i.e. to 0).
		// Written as two independent selects so the compiler emits
		// conditional moves: with random signs a branch mispredicts half
		// the time, which made this loop 6x slower.
		x := v * s
		var p, m int8
		if x > 0.5 {
			p = 1
		}
		if x < -0.5 {
			m = 1
		}
		codes[i] = p - m
	}
	return 1 / s, nil
}

// torchVec is the float32 vector width of ATen's AVX2 kernels.
const torchVec = 8

// torchAbsSum returns Σ|w| in float32, in the order ATen's vectorized inner
// sum adds the elements of a contiguous row (vectorized_inner_sum →
// row_sum → multi_row_sum): 4 accumulators of 8 lanes take consecutive
// 32-element rows, so lane j of accumulator k sums w[32i + 8k + j].
func torchAbsSum(w []float32) float32 {
	n := len(w)
	if n < torchVec {
		return torchScalarRowSum(w)
	}
	vecs := n / torchVec
	rows := vecs / 4
	acc := torchMultiRowSum(w, rows)
	// Leftover whole vectors go to accumulator 0.
	for i := rows * 4; i < vecs; i++ {
		for q := range torchVec {
			acc[q] += abs32(w[i*torchVec+q])
		}
	}
	for k := 1; k < 4; k++ {
		for q := range torchVec {
			acc[q] += acc[k*torchVec+q]
		}
	}
	var final float32
	for k := vecs * torchVec; k < n; k++ {
		final += abs32(w[k])
	}
	for q := range torchVec {
		final += acc[q]
	}
	return final
}

// torchMultiRowSum accumulates rows of 4 vectors into four levels of
// partial sums, flushing a level into the next every 2^levelPower rows, as
// ATen's multi_row_sum does. The result's element 8k+q is lane q of
// accumulator k.
func torchMultiRowSum(w []float32, rows int) [4 * torchVec]float32 {
	const levels = 4
	const width = 4 * torchVec
	levelPower := max(4, ceilLog2(rows)/levels)
	step := 1 << levelPower
	mask := step - 1
	var acc [levels][width]float32
	i := 0
	for i+step <= rows {
		for r := i; r < i+step; r++ {
			row := (*[width]float32)(w[r*width : (r+1)*width])
			for j := range width {
				acc[0][j] += abs32(row[j])
			}
		}
		i += step
		for l := 1; l < levels; l++ {
			for j := range width {
				acc[l][j] += acc[l-1][j]
				acc[l-1][j] = 0
			}
			if i&(mask<<(l*levelPower)) != 0 {
				break
			}
		}
	}
	for ; i < rows; i++ {
		row := (*[width]float32)(w[i*width : (i+1)*width])
		for j := range width {
			acc[0][j] += abs32(row[j])
		}
	}
	for l := 1; l < levels; l++ {
		for j := range width {
			acc[0][j] += acc[l][j]
		}
	}
	return acc[0]
}

// torchScalarRowSum is ATen's row_sum for rows too short to vectorize.
func torchScalarRowSum(w []float32) float32 {
	var ps [4]float32
	ilp := len(w) / 4
	for i := range ilp {
		for k := range 4 {
			ps[k] += abs32(w[4*i+k])
		}
	}
	for i := ilp * 4; i < len(w); i++ {
		ps[0] += abs32(w[i])
	}
	return ps[0] + ps[1] + ps[2] + ps[3]
}

// ceilLog2 is c10's CeilLog2 (1 for x ≤ 2).
func ceilLog2(x int) int {
	if x <= 2 {
		return 1
	}
	return bits.Len(uint(x - 1))
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
