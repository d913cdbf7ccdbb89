package server

import (
	"container/heap"
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
	top   candHeap
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
	var z float64
	for i, l := range logits {
		p := float32(math.Exp(float64(l-m) * inv))
		if p != p { // NaN logit
			p = 0
		}
		probs[i] = p
		z += float64(p)
	}
	if s.p.TopP <= 0 || s.p.TopP >= 1 {
		return drawLinear(probs, z, s.rng.Float64())
	}
	return s.drawNucleus(probs, z)
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

// drawNucleus draws from the smallest set of most likely tokens whose mass
// reaches TopP. Sorting the whole vocabulary (128k entries for Llama-3)
// every token would dominate a small model's step, so it widens a top-k
// heap until the nucleus fits in it, which with peaked distributions is
// the first try.
func (s *localSampler) drawNucleus(probs []float32, z float64) int32 {
	target := s.p.TopP * z
	for k := 64; ; k *= 8 {
		k = min(k, len(probs))
		s.top = topK(s.top[:0], probs, k)
		var cum float64
		for i, c := range s.top {
			cum += float64(c.p)
			if cum >= target || i == len(s.top)-1 && k == len(probs) {
				nucleus := s.top[:i+1]
				r := s.rng.Float64() * cum
				for _, c := range nucleus {
					r -= float64(c.p)
					if r < 0 {
						return c.id
					}
				}
				return nucleus[len(nucleus)-1].id
			}
		}
	}
}

// topK returns the k largest entries of probs in descending order (ties by
// lower id first, so the result is deterministic).
func topK(buf candHeap, probs []float32, k int) candHeap {
	h := buf
	for i, p := range probs {
		c := cand{int32(i), p}
		if len(h) < k {
			heap.Push(&h, c)
		} else if h[0].less(c) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, func(a, b cand) int {
		switch {
		case b.less(a):
			return -1
		case a.less(b):
			return 1
		}
		return 0
	})
	return h
}

// less orders candidates by probability, the higher id being "smaller" on
// ties so that lower ids win.
func (c cand) less(d cand) bool {
	if c.p != d.p {
		return c.p < d.p
	}
	return c.id > d.id
}

// candHeap is a min-heap of candidates (the weakest on top, to be evicted).
type candHeap []cand

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[i].less(h[j]) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(cand)) }
func (h *candHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
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
