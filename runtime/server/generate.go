package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// errRequestTimeout is the cause of a request's context when it runs past
// Config.RequestTimeout.
var errRequestTimeout = errors.New("request timeout")

// generate admits a validated request and answers it, streamed or whole.
func (s *Server) generate(w http.ResponseWriter, r *http.Request, g genRequest, f format) {
	if !s.handlers.enter() {
		writeError(w, s.jobError(errShuttingDown))
		return
	}
	defer s.handlers.leave()

	n, ctxLen := len(g.prompt), s.eng.ContextLength()
	param := "prompt"
	if f.chat {
		param = "messages"
	}
	switch {
	case n == 0:
		writeError(w, badRequest(param, "the prompt is empty"))
		return
	case n >= ctxLen:
		writeError(w, &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: strp("context_length_exceeded"),
			Param:   strp(param),
			Message: fmt.Sprintf("This model's maximum context length is %d tokens, but the prompt has %d tokens; shorten it", ctxLen, n)})
		return
	}
	maxTokens := s.cfg.MaxTokens
	if g.maxTokens > 0 {
		maxTokens = min(maxTokens, g.maxTokens)
	}
	maxTokens = min(maxTokens, ctxLen-n)

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if s.cfg.RequestTimeout > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeoutCause(ctx, s.cfg.RequestTimeout, errRequestTimeout)
		defer c2()
	}
	// One job per choice, all signalling one channel. Each choice draws
	// with its own seed (seed, seed+1, …), so the choices differ and a seed
	// still reproduces all of them. A constrained reply gives each choice
	// a grammar state of its own.
	notify := make(chan struct{}, 1)
	jobs := make([]*job, g.n)
	now := time.Now()
	for i := range jobs {
		p := g.params
		p.Seed += uint64(i)
		jobs[i] = &job{ctx: ctx, prompt: g.prompt, maxTokens: maxTokens, params: p, stops: g.stops,
			out: newOutbox(notify), logits: g.logits, logprobs: g.logprobs, submitted: now, gram: g.gram.constraint()}
		if i > 0 {
			jobs[i].share = jobs[0]
		}
	}
	if err := s.sched.submit(jobs...); err != nil {
		writeError(w, s.jobError(err))
		return
	}
	switch {
	case g.stream && f.tools:
		s.streamTools(w, r, ctx, jobs, g, f)
	case g.stream:
		s.stream(w, r, ctx, jobs, g, f)
	default:
		s.whole(w, r, ctx, jobs, g, f)
	}
}

// next waits for news from any of jobs (they share one notify channel)
// and returns each one's; a context that ends first ends the jobs from the
// handler's side (the scheduler notices by itself).
func next(ctx context.Context, jobs []*job, buf []news) []news {
	select {
	case <-jobs[0].out.notify:
	case <-ctx.Done():
	}
	buf = buf[:0]
	for _, j := range jobs {
		n := j.out.take()
		if !n.done && ctx.Err() != nil {
			n.done, n.err = true, context.Cause(ctx)
		}
		buf = append(buf, n)
	}
	return buf
}

// total adds the usage of the choices of one request: they share the
// prompt, which counts once.
func total(us []Usage) Usage {
	var u Usage
	for i, c := range us {
		if i == 0 {
			u.PromptTokens = c.PromptTokens
		}
		u.CompletionTokens += c.CompletionTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// whole answers with one JSON body once every choice has ended.
func (s *Server) whole(w http.ResponseWriter, r *http.Request, ctx context.Context, jobs []*job, g genRequest, f format) {
	texts := make([]strings.Builder, len(jobs))
	results := make([]choiceResult, len(jobs))
	usages := make([]Usage, len(jobs))
	done := make([]bool, len(jobs))
	var buf []news
	for left := len(jobs); left > 0; {
		buf = next(ctx, jobs, buf)
		for i, n := range buf {
			if done[i] {
				continue
			}
			texts[i].WriteString(n.text)
			results[i].lps = append(results[i].lps, n.lps...)
			if !n.done {
				continue
			}
			if n.err != nil {
				if r.Context().Err() == nil {
					writeError(w, s.jobError(context.Cause(ctx), n.err))
				}
				return // the deferred cancel ends the other choices
			}
			done[i], left = true, left-1
			results[i].reason, usages[i] = n.reason, n.usage
		}
	}
	for i := range results {
		results[i].text = texts[i].String()
		results[i].logprobs = g.logprobs >= 0
	}
	writeJSON(w, http.StatusOK, f.full(results, total(usages)))
}

// stream answers with server-sent events as text arrives, one choice per
// event.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, ctx context.Context, jobs []*job, g genRequest, f format) {
	choices := make([]streamChoice, len(jobs))
	for i := range choices {
		choices[i].logprobs = g.logprobs >= 0
	}
	s.streamEvents(w, r, ctx, jobs, g, f, func(sw *sseWriter, i int, n news) error {
		if n.text == "" && len(n.lps) == 0 {
			return nil
		}
		return sw.event(f.delta(i, &choices[i], n.text, n.lps))
	}, nil)
}

// streamEvents is the event loop of every streamed response: the choices'
// opening events, then each choice's news through deliver, which writes
// what it makes of them, the end of each choice with the finish reason
// that finish makes of the job's (nil: as it is), the usage event when
// asked for, and [DONE]. An error after the stream has started (timeout,
// shutdown) goes out as an error event in OpenAI's shape, which client
// libraries raise as an API error.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, ctx context.Context, jobs []*job, g genRequest, f format,
	deliver func(sw *sseWriter, i int, n news) error, finish func(i int, reason string) string) {
	sw := newSSEWriter(w, s.cfg.WriteTimeout)
	for i := range jobs {
		if ev := f.opening(i); ev != nil && sw.event(ev) != nil {
			return
		}
	}
	ended := make([]bool, len(jobs))
	usages := make([]Usage, len(jobs))
	var buf []news
	for left := len(jobs); left > 0; {
		buf = next(ctx, jobs, buf)
		for i, n := range buf {
			if ended[i] {
				continue
			}
			if deliver(sw, i, n) != nil {
				return // the deferred cancel frees the slots
			}
			if !n.done {
				continue
			}
			if n.err != nil {
				if r.Context().Err() == nil {
					_ = sw.event(errorBody{s.jobError(context.Cause(ctx), n.err)})
				}
				return // the deferred cancel ends the other choices
			}
			ended[i], left, usages[i] = true, left-1, n.usage
			reason := n.reason
			if finish != nil {
				reason = finish(i, reason)
			}
			if sw.event(f.end(i, reason)) != nil {
				return
			}
		}
	}
	if g.includeUsage && sw.event(f.usage(total(usages))) != nil {
		return
	}
	_ = sw.done()
}

// jobError maps why a job failed to the API error the client sees. The
// first error that is one of ours decides.
func (s *Server) jobError(errs ...error) *apiError {
	for _, err := range errs {
		switch {
		case errors.Is(err, errShuttingDown):
			return newAPIError(http.StatusServiceUnavailable, typeServer, "server_shutting_down",
				"The server is shutting down; retry on another instance or later")
		case errors.Is(err, errQueueFull):
			return newAPIError(http.StatusTooManyRequests, typeRateLimit, "rate_limit_exceeded",
				fmt.Sprintf("The server is busy: %d requests are already waiting; retry later", s.cfg.QueueLength))
		case errors.Is(err, errRequestTimeout):
			return newAPIError(http.StatusGatewayTimeout, typeTimeout, "timeout",
				fmt.Sprintf("The request took longer than the server's limit of %s", s.cfg.RequestTimeout))
		}
	}
	var msg string
	for _, err := range errs {
		if err != nil {
			msg = err.Error()
			break
		}
	}
	return newAPIError(http.StatusInternalServerError, typeServer, "", "The server failed while generating: "+msg)
}
