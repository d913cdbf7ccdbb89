package verify

import (
	"fmt"
	"math"
)

// LogitStats summarises how far one set of logits is from a reference.
type LogitStats struct {
	Positions int
	// Top1Agreement is the fraction of positions whose argmax agrees.
	Top1Agreement float64
	// Top1Decisive also counts as agreeing the positions where the
	// reference's logits of the two argmax tokens differ by at most the tie
	// tolerance (a fraction of the logit range), where either is correct.
	Top1Decisive float64
	// MaxAbsDiff is the largest |Δlogit| over all positions and tokens.
	MaxAbsDiff float64
	// RelMaxAbsDiff is MaxAbsDiff divided by the reference's logit range
	// (max − min over all positions), a scale-free measure.
	RelMaxAbsDiff float64
	// MeanKL is the mean over positions of KL(reference ‖ other) in nats.
	MeanKL float64
	// FirstTop1Mismatch is the first position whose argmax differs, or -1.
	FirstTop1Mismatch int
}

func (s LogitStats) String() string {
	return fmt.Sprintf("%d positions, top-1 %.1f%%, max|Δ| %.4g (%.2f%% of range), mean KL %.3g",
		s.Positions, 100*s.Top1Agreement, s.MaxAbsDiff, 100*s.RelMaxAbsDiff, s.MeanKL)
}

// CompareLogits compares got against ref, position by position, over the
// positions both have. tieFrac is the tie tolerance of Top1Decisive, as a
// fraction of the reference's logit range.
func CompareLogits(ref, got [][]float64, tieFrac float64) LogitStats {
	n := min(len(ref), len(got))
	s := LogitStats{Positions: n, FirstTop1Mismatch: -1}
	if n == 0 {
		return s
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for p := range n {
		r, g := ref[p], got[p]
		for i := range r {
			lo, hi = math.Min(lo, r[i]), math.Max(hi, r[i])
			s.MaxAbsDiff = math.Max(s.MaxAbsDiff, math.Abs(r[i]-g[i]))
		}
		s.MeanKL += kl(r, g)
	}
	if hi > lo {
		s.RelMaxAbsDiff = s.MaxAbsDiff / (hi - lo)
	}
	agree, decisive := 0, 0
	for p := range n {
		r, g := ref[p], got[p]
		a, b := argmax(r), argmax(g)
		switch {
		case a == b:
			agree++
			decisive++
		case r[a]-r[b] <= tieFrac*(hi-lo):
			decisive++
		}
		if a != b && s.FirstTop1Mismatch < 0 {
			s.FirstTop1Mismatch = p
		}
	}
	s.Top1Agreement = float64(agree) / float64(n)
	s.Top1Decisive = float64(decisive) / float64(n)
	s.MeanKL /= float64(n)
	return s
}

func argmax[T float32 | float64](x []T) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// kl is KL(softmax(p) ‖ softmax(q)) in nats.
func kl(p, q []float64) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var d float64
	for i := range lp {
		d += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return math.Max(d, 0)
}

func logSoftmax(x []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(v - m)
	}
	lse := m + math.Log(sum)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - lse
	}
	return out
}
