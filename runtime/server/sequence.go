package server

import (
	"context"
	"sync"
	"time"
)

// Finish reasons as OpenAI spells them.
const (
	finishStop   = "stop"   // end-of-generation token or a stop string
	finishLength = "length" // max_tokens or the context length
)

// job is one admitted request as the scheduler sees it: what to evaluate,
// how to sample, and where the text goes. Fields above the line are set
// before submission and then only read; the rest belong to the scheduler.
type job struct {
	ctx       context.Context
	prompt    []int32
	maxTokens int
	params    SamplingParams
	stops     []string
	out       *outbox
	logits    logitParams // bias, penalties, top_k, min_p
	logprobs  int         // alternatives per token; -1: no logprobs
	share     *job        // n > 1: the first choice, whose prompt KV cache this one copies
	submitted time.Time
	gram      *constraint // response_format or tools; nil: free text

	// scheduler state
	slot      int
	pos       int     // tokens already in the slot's KV cache
	pending   []int32 // tokens to evaluate next: prompt rest, or the last sample
	one       [1]int32
	prefill   bool // still reading the prompt
	generated int
	sampler   Sampler
	dec       TextDecoder
	stop      stopMatcher
	proc      *logitProc    // nil when logits pass unchanged
	lp        *logprobState // nil without logprobs
	lpLast    tokenLogprob  // the last draw's, until accepted
	waiting   bool          // for share to finish reading the prompt
	firstAt   time.Time     // when the first token was sampled
}

// outbox carries a job's text from the scheduler to its HTTP handler
// without ever blocking the scheduler: text accumulates under a lock and a
// one-slot channel says "there is news".
type outbox struct {
	mu     sync.Mutex
	text   []byte
	lps    []tokenLogprob
	done   bool
	reason string
	err    error
	usage  Usage
	notify chan struct{}
}

// newOutbox makes an outbox that signals on notify (capacity 1), which the
// choices of one request share so that their handler waits on one channel.
func newOutbox(notify chan struct{}) *outbox { return &outbox{notify: notify} }

func (o *outbox) signal() {
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

// write appends generated text.
func (o *outbox) write(s string) {
	if s == "" {
		return
	}
	o.mu.Lock()
	o.text = append(o.text, s...)
	o.mu.Unlock()
	o.signal()
}

// logprob appends the log-probabilities of a sampled token.
func (o *outbox) logprob(e tokenLogprob) {
	o.mu.Lock()
	o.lps = append(o.lps, e)
	o.mu.Unlock()
	o.signal()
}

// finish records the end of the job: a finish reason, or an error.
func (o *outbox) finish(reason string, err error, u Usage) {
	o.mu.Lock()
	if !o.done {
		o.done, o.reason, o.err, o.usage = true, reason, err, u
	}
	o.mu.Unlock()
	o.signal()
}

// news is what a handler learns from one look at its outbox.
type news struct {
	text   string // written since the last look
	lps    []tokenLogprob
	done   bool // the job is over: reason or err says how
	reason string
	err    error
	usage  Usage
}

// take returns the text written since the last take and, once the job is
// over, how it ended.
func (o *outbox) take() news {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := news{text: string(o.text), lps: o.lps, done: o.done, reason: o.reason, err: o.err, usage: o.usage}
	o.text, o.lps = o.text[:0], nil
	return n
}
