package server

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Logit processing before the draw, in llama-server's order: logit_bias,
// then the repetition penalties, then top_k and min_p. Temperature and
// top_p stay with the Sampler. Each filter works on the logits in place
// (they are the engine's scratch until its next step) and removes a token
// by setting its logit to -Inf, which every sampler reads as probability 0
// and greedy decoding never picks while a finite logit remains.

// Limits of the request fields, as OpenAI and llama-server set them.
const (
	maxLogitBias   = 300 // entries in logit_bias (OpenAI's limit)
	defaultLastN   = 64  // llama-server's repeat_last_n default
	penaltyMinimum = -2.0
	penaltyMaximum = 2.0
)

// logitParams are a request's logit processing settings after defaults.
// The zero value changes nothing.
type logitParams struct {
	bias    []tokenBias // sorted by id, ids unique
	freq    float32     // frequency_penalty: minus count × freq
	pres    float32     // presence_penalty: minus pres once seen
	repeat  float32     // repeat_penalty: divides positive, multiplies negative logits; 1 = off
	lastN   int         // penalty window over prompt and reply; -1 = all of it
	topK    int         // 0 = off
	minP    float32     // 0 = off
	penalty bool        // any of the three penalties is on
}

// tokenBias is one logit_bias entry.
type tokenBias struct {
	id   int32
	bias float32
}

// active reports whether the parameters change any logit.
func (p *logitParams) active() bool {
	return len(p.bias) > 0 || p.penalty || p.topK > 0 || p.minP > 0
}

// parseLogitParams validates the logit processing fields of a request.
// valid reports whether an id is a token of the model's vocabulary.
func (c *commonRequest) parseLogitParams(valid func(int32) bool) (logitParams, *apiError) {
	p := logitParams{repeat: 1, lastN: defaultLastN}
	bias, err := parseLogitBias(c.LogitBias, valid)
	if err != nil {
		return p, err
	}
	p.bias = bias
	penalty := func(v *float64, name string) (float32, *apiError) {
		if v == nil {
			return 0, nil
		}
		if !(*v >= penaltyMinimum && *v <= penaltyMaximum) {
			return 0, badRequest(name, fmt.Sprintf("%s must be between %g and %g", name, penaltyMinimum, penaltyMaximum))
		}
		return float32(*v), nil
	}
	if p.freq, err = penalty(c.FrequencyPenalty, "frequency_penalty"); err != nil {
		return p, err
	}
	if p.pres, err = penalty(c.PresencePenalty, "presence_penalty"); err != nil {
		return p, err
	}
	if r := c.RepeatPenalty; r != nil {
		// llama-server treats 0 like 1 (off); negative values would flip
		// the sign of every repeated token's logit.
		if !(*r >= 0 && *r <= 10) {
			return p, badRequest("repeat_penalty", "repeat_penalty must be between 0 and 10 (1 or 0: off)")
		}
		if *r != 0 {
			p.repeat = float32(*r)
		}
	}
	if n := c.RepeatLastN; n != nil {
		if *n < -1 {
			return p, badRequest("repeat_last_n", "repeat_last_n must be -1 (the whole context), 0 (off) or a positive window")
		}
		p.lastN = *n
	}
	p.penalty = p.lastN != 0 && (p.freq != 0 || p.pres != 0 || p.repeat != 1)
	if k := c.TopK; k != nil {
		if *k < 0 {
			return p, badRequest("top_k", "top_k must be 0 (off) or positive")
		}
		p.topK = *k
	}
	if m := c.MinP; m != nil {
		if !(*m >= 0 && *m <= 1) {
			return p, badRequest("min_p", "min_p must be between 0 and 1")
		}
		p.minP = float32(*m)
	}
	return p, nil
}

// parseLogitBias reads OpenAI's logit_bias: an object from token ids
// (as strings) to a bias in [-100, 100] added to that token's logit.
func parseLogitBias(raw json.RawMessage, valid func(int32) bool) ([]tokenBias, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil, badRequest("logit_bias", "invalid type for 'logit_bias': expected an object mapping token ids to numbers")
	}
	if len(m) > maxLogitBias {
		return nil, badRequest("logit_bias", fmt.Sprintf("logit_bias may hold at most %d tokens", maxLogitBias))
	}
	out := make([]tokenBias, 0, len(m))
	for key, v := range m {
		id, err := strconv.ParseInt(key, 10, 32)
		if err != nil || !valid(int32(id)) {
			return nil, badRequest("logit_bias", fmt.Sprintf("logit_bias key '%s' is not a token id of this model's vocabulary", key))
		}
		var b float64
		if json.Unmarshal(v, &b) != nil || !(b >= -100 && b <= 100) {
			return nil, badRequest("logit_bias", fmt.Sprintf("logit_bias[%s] must be a number between -100 and 100", key))
		}
		out = append(out, tokenBias{int32(id), float32(b)})
	}
	slices.SortFunc(out, func(a, b tokenBias) int { return int(a.id - b.id) })
	return out, nil
}

// logitProc applies one sequence's logitParams. It sees every token of the
// sequence (prompt, then each sampled one) to keep the penalty window.
type logitProc struct {
	p      logitParams
	window []int32 // ring of the last lastN tokens (all of them when lastN < 0)
	next   int     // ring position of the next token
	counts map[int32]int
	top    topHeap
}

func newLogitProc(p logitParams) *logitProc {
	lp := &logitProc{p: p}
	if p.penalty {
		lp.counts = make(map[int32]int)
	}
	return lp
}

// see adds tokens to the penalty window.
func (lp *logitProc) see(toks ...int32) {
	if !lp.p.penalty {
		return
	}
	for _, t := range toks {
		if lp.p.lastN < 0 || len(lp.window) < lp.p.lastN {
			lp.window = append(lp.window, t)
		} else {
			old := lp.window[lp.next]
			if lp.counts[old]--; lp.counts[old] == 0 {
				delete(lp.counts, old)
			}
			lp.window[lp.next] = t
			lp.next = (lp.next + 1) % lp.p.lastN
		}
		lp.counts[t]++
	}
}

// apply processes logits in place: adjust, then filter.
func (lp *logitProc) apply(logits []float32) {
	lp.adjust(logits)
	lp.filter(logits)
}

// adjust adds logit_bias and applies the penalties, in place.
func (lp *logitProc) adjust(logits []float32) {
	p := &lp.p
	for _, b := range p.bias {
		if int(b.id) < len(logits) {
			logits[b.id] += b.bias
		}
	}
	for id, n := range lp.counts {
		if int(id) >= len(logits) {
			continue
		}
		l := logits[id]
		if l <= 0 {
			l *= p.repeat
		} else {
			l /= p.repeat
		}
		logits[id] = l - float32(n)*p.freq - p.pres
	}
}

// filter applies top_k and min_p, in place. A grammar's mask comes
// between adjust and filter, so that these keep the best tokens the
// grammar allows rather than cutting it down to nothing.
func (lp *logitProc) filter(logits []float32) {
	p := &lp.p
	if p.topK > 0 && p.topK < len(logits) {
		cut := lp.top.kthLargest(logits, p.topK)
		for i, l := range logits {
			if l < cut {
				logits[i] = float32(math.Inf(-1))
			}
		}
	}
	if p.minP > 0 {
		m := logits[argmax(logits)]
		cut := m + float32(math.Log(float64(p.minP)))
		for i, l := range logits {
			if l < cut {
				logits[i] = float32(math.Inf(-1))
			}
		}
	}
}

// topHeap is a min-heap of logits, to find the k-th largest of a
// vocabulary in one pass without sorting it (and, unlike container/heap,
// without boxing each value).
type topHeap []float32

// kthLargest returns the k-th largest of logits (1 ≤ k ≤ len). Tokens tied
// with it are all kept by top_k; with real-valued logits ties are rare.
func (h *topHeap) kthLargest(logits []float32, k int) float32 {
	t := (*h)[:0]
	for _, l := range logits {
		switch {
		case l != l: // NaN: never among the top
		case len(t) < k:
			t = append(t, l)
			for i := len(t) - 1; i > 0; { // sift up
				parent := (i - 1) / 2
				if !(t[i] < t[parent]) {
					break
				}
				t[i], t[parent] = t[parent], t[i]
				i = parent
			}
		case l > t[0]:
			t[0] = l
			for i := 0; ; { // sift down
				c := 2*i + 1
				if c >= len(t) {
					break
				}
				if c+1 < len(t) && t[c+1] < t[c] {
					c++
				}
				if !(t[c] < t[i]) {
					break
				}
				t[i], t[c] = t[c], t[i]
				i = c
			}
		}
	}
	*h = t
	if len(t) < k {
		return float32(math.Inf(-1))
	}
	return t[0]
}
