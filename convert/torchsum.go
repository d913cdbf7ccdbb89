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
	s, err := absmeanFactor(torchAbsSum(w), len(w))
	if err != nil {
		return 0, err
	}
	ternarize(codes, w, s)
	return 1 / s, nil
}

// absmeanFactor returns s = 1/max(mean|W|, 1e-5) in float32, as torch
// computes it from the float32 sum.
func absmeanFactor(sum float32, n int) (float32, error) {
	mean := sum / float32(n)
	if math.IsInf(float64(mean), 0) || math.IsNaN(float64(mean)) {
		return 0, fmt.Errorf("absmean: mean |w| is %v", mean)
	}
	return 1 / max(mean, 1e-5), nil
}

// ternarize writes clamp(round_half_even(w·s), -1, 1) into codes.
func ternarize(codes []int8, w []float32, s float32) {
	codes = codes[:len(w)]
	for i, v := range w {
		// clamp(round_half_even(x), -1, 1) is sign(x) for |x| > 0.5 and 0
		// otherwise (±0.5 rounds to even, i.e. to 0). Written as two
		// independent selects so the compiler emits conditional moves:
		// with random signs a branch mispredicts half the time, which made
		// this loop several times slower.
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
}

// torchVec is the float32 vector width of ATen's AVX2 kernels.
const torchVec = 8

// torchRow is the number of elements multi_row_sum takes per row: 4
// accumulators (ILP) of one vector each.
const torchRow = 4 * torchVec

// torchAbsSum returns Σ|w| in float32, in the order ATen's vectorized inner
// sum adds the elements of a contiguous row (vectorized_inner_sum →
// row_sum → multi_row_sum).
func torchAbsSum(w []float32) float32 {
	s := newTorchAbsSummer(len(w))
	head := s.rowElements()
	s.addRows(w[:head])
	return s.finish(w[head:])
}

// torchAbsSummer computes torchAbsSum over a tensor fed in pieces, so that
// a tensor never has to be decoded to float32 whole: first the elements
// that multi_row_sum takes (rowElements of them, in pieces of whole
// 32-element rows), then the few that are left.
//
// multi_row_sum gives element 32i + 8k + j to lane j of accumulator k,
// adds rows into level 0 and, after every 2^levelPower rows of the full
// blocks, cascades each level into the next until one is not at a block
// boundary.
type torchAbsSummer struct {
	n, rows    int // elements; 32-element rows in multi_row_sum
	levelPower int
	fullRows   int // rows that belong to whole blocks (flushed)
	done       int // rows added so far
	acc        [4][torchRow]float32
}

func newTorchAbsSummer(n int) *torchAbsSummer {
	s := &torchAbsSummer{n: n}
	if n >= torchVec {
		s.rows = n / torchVec / 4
	}
	s.levelPower = max(4, ceilLog2(s.rows)/4)
	s.fullRows = s.rows >> s.levelPower << s.levelPower
	return s
}

// rowElements is how many leading elements addRows must be given.
func (s *torchAbsSummer) rowElements() int { return s.rows * torchRow }

// addRows adds the next whole rows (len(w) a multiple of 32).
func (s *torchAbsSummer) addRows(w []float32) {
	step := 1 << s.levelPower
	mask := step - 1
	for r := 0; r+torchRow <= len(w); r += torchRow {
		row := (*[torchRow]float32)(w[r : r+torchRow])
		for j := range torchRow {
			s.acc[0][j] += abs32(row[j])
		}
		s.done++
		if s.done&mask != 0 || s.done > s.fullRows {
			continue
		}
		for l := 1; l < len(s.acc); l++ {
			for j := range torchRow {
				s.acc[l][j] += s.acc[l-1][j]
				s.acc[l-1][j] = 0
			}
			if s.done&(mask<<(l*s.levelPower)) != 0 {
				break
			}
		}
	}
}

// finish takes the elements after the rows (fewer than 40) and returns
// the sum.
func (s *torchAbsSummer) finish(rest []float32) float32 {
	if s.n < torchVec {
		return torchScalarRowSum(rest)
	}
	acc := s.acc[0]
	for l := 1; l < len(s.acc); l++ {
		for j := range torchRow {
			acc[j] += s.acc[l][j]
		}
	}
	// Whole vectors left over go to accumulator 0, then accumulators 1..3
	// are added to it, then the scalar tail and the lanes are summed.
	vecs := len(rest) / torchVec
	for v := range vecs {
		for q := range torchVec {
			acc[q] += abs32(rest[v*torchVec+q])
		}
	}
	for k := 1; k < 4; k++ {
		for q := range torchVec {
			acc[q] += acc[k*torchVec+q]
		}
	}
	var final float32
	for _, v := range rest[vecs*torchVec:] {
		final += abs32(v)
	}
	for q := range torchVec {
		final += acc[q]
	}
	return final
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
