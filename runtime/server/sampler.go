package server

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Sampler picks the next token from a sequence's logits. A Sampler belongs
// to one sequence and is only used by the scheduler goroutine.
type Sampler interface {
	Sample(logits []float32) int32
}

// SamplingParams are a request's sampling settings after defaults.
type SamplingParams struct {
	Temperature float64 // 0 means greedy
	TopP        float64 // in (0, 1]
	Seed        uint64
}

// NewSamplerFunc makes the sampler of one sequence.
type NewSamplerFunc func(SamplingParams) Sampler

// NewLocalSampler is the built-in sampler: greedy at temperature 0,
// otherwise softmax at the temperature, cut to the top-p nucleus, drawn
// with a PCG generator seeded by Seed, so a seed reproduces a completion.
func NewLocalSampler(p SamplingParams) Sampler {
	return &localSampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, 0x62_69_74_6e_65_74))}
}

type localSampler struct {
	p     SamplingParams
	rng   *rand.Rand
	probs []float32
	bins  []uint16 // nucleus scratch: each token's bin
	in    []int32  // nucleus scratch: tokens surely in
	edge  []cand   // nucleus scratch: the bin the cut falls in
}

// cand is a token with its unnormalized probability.
type cand struct {
	id int32
	p  float32
}

func (s *localSampler) Sample(logits []float32) int32 {
	if len(logits) == 0 {
		return 0
	}
	if s.p.Temperature <= 0 {
		return argmax(logits)
	}
	if cap(s.probs) < len(logits) {
		s.probs = make([]float32, len(logits))
	}
	probs := s.probs[:len(logits)]
	m := logits[argmax(logits)]
	if math.IsInf(float64(m), 0) || math.IsNaN(float64(m)) {
		return argmax(logits)
	}
	inv := 1 / s.p.Temperature
	nucleus := s.p.TopP < 1
	if nucleus && cap(s.bins) < len(logits) {
		s.bins = make([]uint16, len(logits))
	}
	var z float64
	for i, l := range logits {
		gap := float64(m-l) * inv // ≥ 0: nats below the best token
		p := expNeg(-gap)
		if p != p { // NaN logit
			p, gap = 0, math.Inf(1)
		}
		probs[i] = p
		z += float64(p)
		if nucleus {
			s.bins[i] = uint16(min(gap*nucleusRes, nucleusBins-1))
		}
	}
	if !nucleus {
		return drawLinear(probs, z, s.rng.Float64())
	}
	return s.drawNucleus(probs, s.bins[:len(logits)], z)
}

// drawLinear draws from all tokens in proportion to probs (summing to z).
func drawLinear(probs []float32, z, u float64) int32 {
	r := u * z
	last := int32(0)
	for i, p := range probs {
		if p == 0 {
			continue
		}
		r -= float64(p)
		last = int32(i)
		if r < 0 {
			return last
		}
	}
	return last // rounding left a sliver: the last nonzero token
}

// Nucleus buckets: tokens are binned by how far below the best one their
// log-probability lies, nucleusRes bins per nat, anything beyond
// nucleusBins/nucleusRes nats in the last bin.
const (
	nucleusRes  = 32
	nucleusBins = 32 * 24
)

// drawNucleus draws from the smallest set of most likely tokens whose mass
// reaches TopP. Sorting the whole vocabulary every token (128k entries for
// Llama-3, and near-flat distributions from random dummy weights) would
// cost more than a small model's forward pass, so tokens are binned by
// probability first: bins above the cut are in, bins below are out, and
// only the one bin the cut falls in is sorted.
func (s *localSampler) drawNucleus(probs []float32, bins []uint16, z float64) int32 {
	var mass [nucleusBins]float64
	for i, p := range probs {
		mass[bins[i]] += float64(p)
	}
	target := s.p.TopP * z
	edge, cum := uint16(0), 0.0
	for ; edge < nucleusBins-1; edge++ {
		if cum+mass[edge] >= target {
			break
		}
		cum += mass[edge]
	}
	s.in, s.edge = s.in[:0], s.edge[:0]
	for i, p := range probs {
		switch b := bins[i]; {
		case b < edge:
			s.in = append(s.in, int32(i))
		case b == edge && p > 0:
			s.edge = append(s.edge, cand{int32(i), p})
		}
	}
	// By probability only: pdqsort is linear on runs of equal values, and
	// deterministic, so a seed still reproduces a draw.
	slices.SortFunc(s.edge, func(a, b cand) int { return cmp.Compare(b.p, a.p) })
	n := 0
	for n < len(s.edge) && (n == 0 || cum < target) {
		cum += float64(s.edge[n].p)
		n++
	}
	r := s.rng.Float64() * cum
	for _, id := range s.in {
		if r -= float64(probs[id]); r < 0 {
			return id
		}
	}
	for _, c := range s.edge[:n] {
		if r -= float64(c.p); r < 0 {
			return c.id
		}
	}
	if n > 0 {
		return s.edge[n-1].id
	}
	return argmax(probs)
}

// argmax returns the index of the largest logit, the lowest on ties.
func argmax(logits []float32) int32 {
	best := 0
	for i, l := range logits {
		if l > logits[best] {
			best = i
		}
	}
	return int32(best)
}
