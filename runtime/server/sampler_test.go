package server

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestGreedy(t *testing.T) {
	s := NewLocalSampler(SamplingParams{Temperature: 0, TopP: 1})
	tests := []struct {
		logits []float32
		want   int32
	}{
		{[]float32{0, 3, 1}, 1},
		{[]float32{2, 2, 1}, 0}, // lowest id on ties
		{[]float32{float32(math.Inf(-1)), -5}, 1},
	}
	for _, tt := range tests {
		if got := s.Sample(tt.logits); got != tt.want {
			t.Errorf("Sample(%v) = %d, want %d", tt.logits, got, tt.want)
		}
	}
}

// Draws follow the softmax at the temperature; top_p removes the tail.
func TestSamplingDistribution(t *testing.T) {
	logits := []float32{2, 1, 0, -1}
	const n = 40000
	tests := []struct {
		name string
		p    SamplingParams
		want []float64
	}{
		{"t=1", SamplingParams{Temperature: 1, TopP: 1, Seed: 1}, softmax(logits, 1)},
		{"t=0.5", SamplingParams{Temperature: 0.5, TopP: 1, Seed: 2}, softmax(logits, 0.5)},
		// The top two tokens hold 0.665+0.245 = 0.91 ≥ 0.8 of the mass.
		{"top_p=0.8", SamplingParams{Temperature: 1, TopP: 0.8, Seed: 3}, renorm(softmax(logits, 1)[:2], 4)},
		{"top_p=0", SamplingParams{Temperature: 1, TopP: 0, Seed: 4}, []float64{1, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewLocalSampler(tt.p)
			counts := make([]float64, len(logits))
			for range n {
				counts[s.Sample(logits)]++
			}
			for i := range counts {
				if got := counts[i] / n; math.Abs(got-tt.want[i]) > 0.015 {
					t.Errorf("token %d drawn %.3f of the time, want %.3f", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestSeedReproducible(t *testing.T) {
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(i%17) / 4
	}
	draw := func(seed uint64) []int32 {
		s := NewLocalSampler(SamplingParams{Temperature: 1.3, TopP: 0.9, Seed: seed})
		out := make([]int32, 50)
		for i := range out {
			out[i] = s.Sample(logits)
		}
		return out
	}
	if a, b := draw(5), draw(5); !slices.Equal(a, b) {
		t.Error("same seed, different draws")
	}
	if a, b := draw(5), draw(6); slices.Equal(a, b) {
		t.Error("different seeds, same 50 draws")
	}
}

// A nucleus wider than the first top-k try is still found.
func TestWideNucleus(t *testing.T) {
	logits := make([]float32, 5000) // uniform: the nucleus is the whole vocabulary
	s := NewLocalSampler(SamplingParams{Temperature: 1, TopP: 0.999, Seed: 9})
	seen := map[int32]bool{}
	for range 50000 {
		seen[s.Sample(logits)] = true
	}
	if len(seen) < 4900 {
		t.Errorf("only %d distinct tokens drawn from a uniform 5000", len(seen))
	}
}

func softmax(l []float32, temp float64) []float64 {
	out := make([]float64, len(l))
	var z float64
	for i, v := range l {
		out[i] = math.Exp(float64(v) / temp)
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

func renorm(p []float64, n int) []float64 {
	out := make([]float64, n)
	var z float64
	for _, v := range p {
		z += v
	}
	for i, v := range p {
		out[i] = v / z
	}
	return out
}

func BenchmarkSample(b *testing.B) {
	for _, vocab := range []int{32002, 128256} {
		logits := make([]float32, vocab)
		r := rand.New(rand.NewPCG(1, 2))
		for i := range logits {
			logits[i] = float32(r.NormFloat64()) // as flat as a random dummy model's
		}
		for _, p := range []SamplingParams{{Temperature: 0, TopP: 1}, {Temperature: 1, TopP: 1}, {Temperature: 1, TopP: 0.9}} {
			b.Run(fmt.Sprintf("vocab=%d/t=%g/top_p=%g", vocab, p.Temperature, p.TopP), func(b *testing.B) {
				s := NewLocalSampler(p)
				for b.Loop() {
					s.Sample(logits)
				}
			})
		}
	}
}
