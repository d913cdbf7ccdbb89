package runtime

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// SamplerConfig chooses how the next token is picked from the logits. The
// zero value is greedy decoding (argmax, no penalties).
type SamplerConfig struct {
	// Temp divides the logits before sampling; <= 0 picks the argmax
	// (greedy) after the repetition penalty.
	Temp float32
	// TopK keeps the K most likely tokens; <= 0 keeps all.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P (nucleus sampling); >= 1 or <= 0 keeps all.
	TopP float32
	// MinP drops tokens less likely than MinP times the most likely one;
	// <= 0 keeps all.
	MinP float32
	// RepeatPenalty divides positive (multiplies negative) logits of tokens
	// seen in the last RepeatLastN tokens of the history; <= 0 or 1 disables.
	RepeatPenalty float32
	// RepeatLastN is the history window of the repetition penalty; 0
	// disables it and -1 means the whole history.
	RepeatLastN int
	// Seed makes sampling reproducible; negative means a random seed.
	Seed int64
}

// DefaultSamplerConfig returns llama.cpp's default sampling settings:
// temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty
// (window 64), random seed.
func DefaultSamplerConfig() SamplerConfig {
	return SamplerConfig{Temp: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1, RepeatLastN: 64, Seed: -1}
}

// Sampler picks tokens from logits as its SamplerConfig says. The filters
// run in llama.cpp's order: repetition penalty, top-k, top-p, min-p,
// temperature, then a draw from the softmax. A Sampler is not safe for
// concurrent use.
type Sampler struct {
	cfg  SamplerConfig
	rng  *rand.Rand
	cand []candidate
	seen map[int32]bool
}

type candidate struct {
	id    int32
	logit float32
	p     float64
}

// NewSampler creates a Sampler.
func NewSampler(cfg SamplerConfig) *Sampler {
	seed := uint64(cfg.Seed)
	if cfg.Seed < 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return &Sampler{cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)), seen: map[int32]bool{}}
}

// Config returns the sampler's settings.
func (s *Sampler) Config() SamplerConfig { return s.cfg }

// Sample returns the next token given the logits and the tokens so far
// (history, used only by the repetition penalty). logits are not modified.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	cfg := &s.cfg
	s.cand = s.cand[:0]
	for i, l := range logits {
		s.cand = append(s.cand, candidate{id: int32(i), logit: l})
	}
	if len(s.cand) == 0 {
		return 0
	}
	s.penalize(history)
	if cfg.Temp <= 0 {
		best := 0
		for i, c := range s.cand {
			if c.logit > s.cand[best].logit {
				best = i
			}
		}
		return s.cand[best].id
	}
	// Most likely first; ties keep the lower id, so the order is deterministic.
	byLogit := func(a, b candidate) int {
		if c := cmp.Compare(b.logit, a.logit); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	}
	if k := cfg.TopK; k > 0 && k < len(s.cand) {
		s.selectTop(k, byLogit)
		s.cand = s.cand[:k]
	}
	slices.SortFunc(s.cand, byLogit)
	if p := cfg.TopP; p > 0 && p < 1 {
		s.softmax(1)
		cum, keep := 0.0, len(s.cand)
		for i, c := range s.cand {
			cum += c.p
			if cum >= float64(p) {
				keep = i + 1
				break
			}
		}
		s.cand = s.cand[:keep]
	}
	if mp := cfg.MinP; mp > 0 {
		limit := float64(s.cand[0].logit) + math.Log(float64(mp))
		keep := 1
		for keep < len(s.cand) && float64(s.cand[keep].logit) >= limit {
			keep++
		}
		s.cand = s.cand[:keep]
	}
	s.softmax(cfg.Temp)
	r := s.rng.Float64()
	cum := 0.0
	for _, c := range s.cand {
		cum += c.p
		if r < cum {
			return c.id
		}
	}
	return s.cand[len(s.cand)-1].id
}

// penalize applies the repetition penalty to the candidates (still indexed
// by token id).
func (s *Sampler) penalize(history []int32) {
	pen, n := s.cfg.RepeatPenalty, s.cfg.RepeatLastN
	if pen <= 0 || pen == 1 || n == 0 {
		return
	}
	if n > 0 && len(history) > n {
		history = history[len(history)-n:]
	}
	clear(s.seen)
	for _, t := range history {
		if t < 0 || int(t) >= len(s.cand) || s.seen[t] {
			continue
		}
		s.seen[t] = true
		if c := &s.cand[t]; c.logit > 0 {
			c.logit /= pen
		} else {
			c.logit *= pen
		}
	}
}

// selectTop moves the k best candidates to the front (in any order) with a
// quickselect, so that top-k over a large vocabulary does not sort it all.
func (s *Sampler) selectTop(k int, less func(a, b candidate) int) {
	c := s.cand
	lo, hi := 0, len(c)-1
	for lo < hi {
		pivot := c[lo+(hi-lo)/2]
		i, j := lo, hi
		for i <= j {
			for less(c[i], pivot) < 0 {
				i++
			}
			for less(c[j], pivot) > 0 {
				j--
			}
			if i <= j {
				c[i], c[j] = c[j], c[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// softmax sets the probabilities of the (sorted) candidates at temperature t.
func (s *Sampler) softmax(t float32) {
	top := float64(s.cand[0].logit) / float64(t)
	sum := 0.0
	for i := range s.cand {
		p := math.Exp(float64(s.cand[i].logit)/float64(t) - top)
		s.cand[i].p = p
		sum += p
	}
	for i := range s.cand {
		s.cand[i].p /= sum
	}
}
