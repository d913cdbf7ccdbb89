package runtime

import (
	"math"
	"testing"
)

func TestSampler(t *testing.T) {
	logits := []float32{1, 3, 2, 5, 4.9, -1}
	tests := []struct {
		name    string
		cfg     SamplerConfig
		history []int32
		allowed []int32 // tokens the sampler may return
	}{
		{"greedy", SamplerConfig{}, nil, []int32{3}},
		{"greedy ignores top-k", SamplerConfig{TopK: 3}, nil, []int32{3}},
		{"repeat penalty", SamplerConfig{RepeatPenalty: 1.5, RepeatLastN: 4}, []int32{3}, []int32{4}},
		{"repeat penalty window", SamplerConfig{RepeatPenalty: 1.5, RepeatLastN: 1}, []int32{3, 0}, []int32{3}},
		{"repeat penalty whole history", SamplerConfig{RepeatPenalty: 1.5, RepeatLastN: -1}, []int32{3, 0, 0, 0}, []int32{4}},
		{"top-k 1", SamplerConfig{Temp: 5, TopK: 1}, nil, []int32{3}},
		{"top-k 2", SamplerConfig{Temp: 5, TopK: 2}, nil, []int32{3, 4}},
		{"top-p small", SamplerConfig{Temp: 5, TopP: 0.01}, nil, []int32{3}},
		{"min-p", SamplerConfig{Temp: 5, MinP: 0.5}, nil, []int32{3, 4}},
		{"temperature", SamplerConfig{Temp: 1, Seed: 3}, nil, []int32{0, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSampler(tt.cfg)
			for range 200 {
				id := s.Sample(logits, tt.history)
				ok := false
				for _, a := range tt.allowed {
					ok = ok || id == a
				}
				if !ok {
					t.Fatalf("sampled %d, want one of %v", id, tt.allowed)
				}
			}
		})
	}
}

// TestSamplerDistribution: with no filters, the frequencies follow the
// softmax at the temperature.
func TestSamplerDistribution(t *testing.T) {
	logits := []float32{0, 1, 2}
	s := NewSampler(SamplerConfig{Temp: 2, Seed: 7})
	const n = 30000
	counts := make([]int, 3)
	for range n {
		counts[s.Sample(logits, nil)]++
	}
	z := 1 + math.Exp(0.5) + math.Exp(1)
	for i, c := range counts {
		want := math.Exp(float64(i)/2) / z
		if got := float64(c) / n; math.Abs(got-want) > 0.015 {
			t.Errorf("token %d: frequency %.3f, want %.3f", i, got, want)
		}
	}
}

// TestSamplerTopKSelect: the quickselect keeps exactly the k best.
func TestSamplerTopKSelect(t *testing.T) {
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32((i * 7919) % 1000)
	}
	s := NewSampler(SamplerConfig{Temp: 1000, TopK: 5, Seed: 1})
	for range 500 {
		if l := logits[s.Sample(logits, nil)]; l < 995 {
			t.Fatalf("sampled logit %v outside the top 5", l)
		}
	}
}
