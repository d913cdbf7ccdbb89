package server

import "time"

// The per-sequence side of sampling that the scheduler calls into: logit
// processing, a constrained reply's grammar mask and logprobs around the
// Sampler, and the prompt sharing of the choices of a request with n > 1.

// startDraw prepares j's logit processing and logprobs at admission. The
// penalty window starts with the prompt, as llama-server's does.
func (j *job) startDraw() {
	j.proc, j.lp, j.waiting = nil, nil, j.share != nil
	if j.logits.active() {
		j.proc = newLogitProc(j.logits)
		j.proc.see(j.prompt...)
	}
	if j.logprobs >= 0 {
		j.lp = &logprobState{n: j.logprobs}
	}
}

// draw picks j's next token from logits: logprobs read the raw logits,
// then logit_bias and the penalties change them in place, then the
// grammar of a constrained reply masks the tokens it rules out, then top_k
// and min_p filter what is left and the Sampler draws. The mask comes after
// the bias (a bias cannot bring back a ruled-out token) and before the
// filters (they pick among the allowed tokens). Logprobs stay the model's
// own, before bias, penalties and mask alike. It runs on a sampling
// goroutine of its own, touching only j.
func (j *job) draw(logits []float32) int32 {
	if j.lp != nil {
		j.lp.observe(logits, j.proc != nil || j.gram != nil)
	}
	if j.proc != nil {
		j.proc.adjust(logits)
	}
	if j.gram != nil {
		j.gram.apply(logits, j.maxTokens-j.generated)
	}
	if j.proc != nil {
		j.proc.filter(logits)
	}
	tok := j.sampler.Sample(logits)
	if j.lp != nil {
		j.lpLast = j.lp.entry(tok)
	}
	return tok
}

// accepted records a sampled token of j: into the penalty window, and its
// logprobs to the client unless it ends generation (it has no text).
func (s *scheduler) accepted(j *job, tok int32, eog bool) {
	if j.generated == 1 {
		j.firstAt = time.Now()
		s.metrics.firstToken(j)
	}
	if j.proc != nil {
		j.proc.see(tok)
	}
	if j.lp != nil && !eog {
		j.out.logprob(j.lpLast)
	}
}

// tryShare starts a waiting choice of an n > 1 request. While the first
// choice reads the prompt, the others wait in their slots; once it has,
// they copy the KV cache of all but the prompt's last token from its slot
// and evaluate only that token themselves, for logits of their own. If the
// first choice is gone (it ended, failed or was cancelled), or the engine
// cannot copy, a choice reads the prompt itself.
func (s *scheduler) tryShare(j *job) {
	lead := j.share
	running := s.active[lead.slot] == lead
	if running && lead.prefill {
		return // still reading the prompt
	}
	j.waiting = false
	n := len(j.prompt) - 1
	pc, ok := s.eng.(PrefixCopier)
	if !running || !ok || n < 1 || lead.pos < n {
		return
	}
	if err := pc.CopyPrefix(j.slot, lead.slot, n); err != nil {
		s.eng.Free(j.slot) // read the prompt itself from a clean slot
		return
	}
	j.pos, j.pending = n, j.prompt[n:]
	s.shared.Add(int64(n))
}
