package server

import (
	"cmp"
	"math"
	"slices"
)

// Log-probabilities as OpenAI reports them. They are taken from the model's
// own distribution, log-softmax of the raw logits, before logit_bias,
// penalties, temperature and the other filters, as llama-server does by
// default: they say what the model thinks, while the filters only decide
// what is drawn. So a token forced by logit_bias may show a low logprob.

// Limits on the number of alternatives per token, as in OpenAI's API.
const (
	maxTopLogprobsChat       = 20 // top_logprobs
	maxTopLogprobsCompletion = 5  // logprobs on /v1/completions
)

// tokenLogprob is one sampled token with its log-probability and the most
// likely tokens at its position, best first.
type tokenLogprob struct {
	id      int32
	logprob float32
	top     []idLogprob
}

type idLogprob struct {
	id      int32
	logprob float32
}

// logprobState computes log-probabilities for one sequence.
type logprobState struct {
	n   int       // alternatives per token
	raw []float32 // the raw logits, kept when a filter will change them
	lse float32   // log of the softmax's normalizer of the current logits
	top []idLogprob
}

// observe reads the raw logits of a position before any filter. keep says
// that the logits are about to be changed in place, so the chosen token's
// logit must be remembered from here.
func (s *logprobState) observe(logits []float32, keep bool) {
	m := logits[argmax(logits)]
	var z float64
	for _, l := range logits {
		z += float64(expNeg(float64(l - m)))
	}
	s.lse = m + float32(math.Log(z))
	s.top = topTokens(logits, s.n, s.top[:0])
	for i := range s.top {
		s.top[i].logprob -= s.lse
	}
	if keep {
		s.raw = append(s.raw[:0], logits...)
	} else {
		s.raw = logits
	}
}

// entry is the record of the sampled token id at the observed position.
func (s *logprobState) entry(id int32) tokenLogprob {
	lp := float32(math.Inf(-1))
	if int(id) < len(s.raw) {
		lp = s.raw[id] - s.lse
	}
	return tokenLogprob{id: id, logprob: lp, top: slices.Clone(s.top)}
}

// topTokens appends the n tokens of largest logit to dst, best first (the
// lower id first on ties), keeping a small min-heap rather than sorting the
// vocabulary.
func topTokens(logits []float32, n int, dst []idLogprob) []idLogprob {
	if n <= 0 {
		return dst
	}
	less := func(a, b idLogprob) bool { // a ranks below b
		return a.logprob < b.logprob || (a.logprob == b.logprob && a.id > b.id)
	}
	h := dst
	for i, l := range logits {
		c := idLogprob{int32(i), l}
		switch {
		case l != l: // NaN
		case len(h) < n:
			h = append(h, c)
			for j := len(h) - 1; j > 0; {
				p := (j - 1) / 2
				if !less(h[j], h[p]) {
					break
				}
				h[j], h[p] = h[p], h[j]
				j = p
			}
		case less(h[0], c):
			h[0] = c
			for j := 0; ; {
				k := 2*j + 1
				if k >= len(h) {
					break
				}
				if k+1 < len(h) && less(h[k+1], h[k]) {
					k++
				}
				if !less(h[k], h[j]) {
					break
				}
				h[j], h[k] = h[k], h[j]
				j = k
			}
		}
	}
	slices.SortFunc(h, func(a, b idLogprob) int {
		if c := cmp.Compare(b.logprob, a.logprob); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return h
}

// The response shapes.

// chatLogprobs is a chat choice's logprobs: one entry per token of content.
type chatLogprobs struct {
	Content []chatTokenLogprob `json:"content"`
	Refusal []chatTokenLogprob `json:"refusal"` // always null: no refusals
}

type chatTokenLogprob struct {
	Token       string           `json:"token"`
	Logprob     float32          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []chatTopLogprob `json:"top_logprobs"`
}

type chatTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float32 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// textLogprobs is a text completion choice's logprobs, in the legacy
// column shape. TextOffset is the byte offset of each token's bytes in the
// reply's bytes, which is the offset in its text unless the text holds
// invalid UTF-8 (a token that splits a character), shown as U+FFFD.
type textLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float32            `json:"token_logprobs"`
	TopLogprobs   []map[string]float32 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// piecer renders token ids for logprobs.
type piecer struct{ tp TokenPiecer }

func (p piecer) bytes(id int32) (string, []int) {
	b := p.tp.TokenBytes(id)
	ints := make([]int, len(b))
	for i, c := range b {
		ints[i] = int(c)
	}
	// A token may be part of a UTF-8 character; JSON shows it as U+FFFD,
	// and bytes carries the truth, as in OpenAI's API.
	return string(b), ints
}

// chat renders entries in the chat shape.
func (p piecer) chat(lps []tokenLogprob) *chatLogprobs {
	out := &chatLogprobs{Content: make([]chatTokenLogprob, len(lps))}
	for i, lp := range lps {
		tok, b := p.bytes(lp.id)
		e := chatTokenLogprob{Token: tok, Logprob: lp.logprob, Bytes: b, TopLogprobs: make([]chatTopLogprob, len(lp.top))}
		for k, t := range lp.top {
			tt, tb := p.bytes(t.id)
			e.TopLogprobs[k] = chatTopLogprob{Token: tt, Logprob: t.logprob, Bytes: tb}
		}
		out.Content[i] = e
	}
	return out
}

// text renders entries in the completion shape; offset is the byte offset
// of the first entry in the choice's text, and the new offset is returned.
func (p piecer) text(lps []tokenLogprob, offset int) (*textLogprobs, int) {
	out := &textLogprobs{
		Tokens:        make([]string, len(lps)),
		TokenLogprobs: make([]float32, len(lps)),
		TopLogprobs:   make([]map[string]float32, len(lps)),
		TextOffset:    make([]int, len(lps)),
	}
	for i, lp := range lps {
		tok, _ := p.bytes(lp.id)
		out.Tokens[i] = tok
		out.TokenLogprobs[i] = lp.logprob
		out.TextOffset[i] = offset
		offset += len(tok)
		top := make(map[string]float32, len(lp.top))
		for _, t := range lp.top {
			tt, _ := p.bytes(t.id)
			if _, dup := top[tt]; !dup { // two ids may share a text; keep the likelier
				top[tt] = t.logprob
			}
		}
		out.TopLogprobs[i] = top
	}
	return out, offset
}
