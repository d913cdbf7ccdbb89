package server

import (
	"math"
	"slices"
	"testing"
)

var negInf = float32(math.Inf(-1))

// Each filter changes exactly the logits llama-server's would.
func TestLogitProc(t *testing.T) {
	tests := []struct {
		name   string
		p      logitParams
		seen   []int32 // prompt and reply so far
		logits []float32
		want   []float32
	}{
		{"nothing", logitParams{repeat: 1}, nil, []float32{1, 2, 3}, []float32{1, 2, 3}},
		{"bias", logitParams{repeat: 1, bias: []tokenBias{{0, 5}, {2, -100}}}, nil,
			[]float32{1, 2, 3}, []float32{6, 2, -97}},
		{"bias beyond the logits is skipped", logitParams{repeat: 1, bias: []tokenBias{{7, 5}}}, nil,
			[]float32{1, 2}, []float32{1, 2}},
		{"repeat penalty divides positive, multiplies negative", logitParams{repeat: 2, lastN: 64, penalty: true}, []int32{0, 1},
			[]float32{4, -4, 4}, []float32{2, -8, 4}},
		{"frequency counts, presence once", logitParams{repeat: 1, freq: 0.5, pres: 1, lastN: 64, penalty: true}, []int32{0, 0, 0, 1},
			[]float32{0, 0, 0}, []float32{-2.5, -1.5, 0}},
		{"the window forgets old tokens", logitParams{repeat: 1, pres: 1, lastN: 2, penalty: true}, []int32{0, 1, 2, 2},
			[]float32{0, 0, 0}, []float32{0, 0, -1}},
		{"a window of -1 is everything", logitParams{repeat: 1, pres: 1, lastN: -1, penalty: true}, []int32{0, 1, 2, 2, 2, 2},
			[]float32{0, 0, 0, 0}, []float32{-1, -1, -1, 0}},
		{"top_k", logitParams{repeat: 1, topK: 2}, nil,
			[]float32{1, 5, 3, 4}, []float32{negInf, 5, negInf, 4}},
		{"top_k keeps ties", logitParams{repeat: 1, topK: 1}, nil,
			[]float32{2, 2, 1}, []float32{2, 2, negInf}},
		{"min_p", logitParams{repeat: 1, minP: 0.5}, nil, // cut at 3 + ln 0.5 ≈ 2.31
			[]float32{3, 2.5, 2, 0}, []float32{3, 2.5, negInf, negInf}},
		{"bias before top_k", logitParams{repeat: 1, bias: []tokenBias{{0, 10}}, topK: 1}, nil,
			[]float32{1, 5, 3}, []float32{11, negInf, negInf}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lp := newLogitProc(tt.p)
			lp.see(tt.seen...)
			got := slices.Clone(tt.logits)
			lp.apply(got)
			for i := range got {
				if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 && !(math.IsInf(float64(got[i]), -1) && math.IsInf(float64(tt.want[i]), -1)) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// The k-th largest agrees with a sort, NaNs never count.
func TestKthLargest(t *testing.T) {
	logits := []float32{0.5, -1, 7, 3, float32(math.NaN()), 7, 2, -8, 4}
	sorted := []float32{7, 7, 4, 3, 2, 0.5, -1, -8}
	var h topHeap
	for k := 1; k <= len(sorted); k++ {
		if got := h.kthLargest(logits, k); got != sorted[k-1] {
			t.Errorf("k=%d: %g, want %g", k, got, sorted[k-1])
		}
	}
	if got := h.kthLargest(logits, 9); !math.IsInf(float64(got), -1) {
		t.Errorf("k beyond the numbers: %g", got)
	}
}

// topTokens and the logprob of the sampled token match a direct
// log-softmax.
func TestLogprobState(t *testing.T) {
	logits := []float32{1, 3, 3, -2, 0.5}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l))
	}
	orig := slices.Clone(logits)
	lsm := func(i int) float64 { return float64(orig[i]) - math.Log(z) }
	s := logprobState{n: 3}
	s.observe(logits, true)
	logits[1] = 100 // a filter changing the logits in place must not matter
	e := s.entry(4)
	if math.Abs(float64(e.logprob)-lsm(4)) > 1e-5 || e.id != 4 {
		t.Errorf("entry %+v, want logprob %g", e, lsm(4))
	}
	wantIDs := []int32{1, 2, 0} // ties: lower id first
	for i, tp := range e.top {
		if tp.id != wantIDs[i] || math.Abs(float64(tp.logprob)-lsm(int(wantIDs[i]))) > 1e-5 {
			t.Errorf("top %d: %+v", i, tp)
		}
	}
	if len(e.top) != 3 {
		t.Errorf("%d alternatives", len(e.top))
	}
}

// The cost of a draw with and without the logit filters and logprobs, over
// a Llama-3-sized vocabulary of random logits.
func BenchmarkDraw(b *testing.B) {
	const vocab = 128256
	logits := make([]float32, vocab)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)*12.9898) * 8)
	}
	full := logitParams{repeat: 1.1, freq: 0.5, pres: 0.5, lastN: 64, penalty: true, topK: 40, minP: 0.05,
		bias: []tokenBias{{300, 2}}}
	tests := []struct {
		name     string
		p        logitParams
		logprobs int
	}{
		{"plain", logitParams{repeat: 1}, -1},
		{"filters", full, -1},
		{"filters+top_logprobs=5", full, 5},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			j := &job{logits: tt.p, logprobs: tt.logprobs, prompt: make([]int32, 64),
				sampler: NewLocalSampler(SamplingParams{Temperature: 1, TopP: 1, Seed: 1})}
			j.startDraw()
			work := make([]float32, vocab)
			for b.Loop() {
				copy(work, logits)
				tok := j.draw(work)
				if j.proc != nil {
					j.proc.see(tok)
				}
			}
		})
	}
}
