package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
	j := &job{ctx: ctx, prompt: g.prompt, maxTokens: maxTokens, params: g.params, stops: g.stops, out: newOutbox(), gram: g.gram.constraint()}
	if err := s.sched.submit(j); err != nil {
		writeError(w, s.jobError(err))
		return
	}
	switch {
	case g.stream && f.tools:
		s.streamTools(w, r, ctx, j, g, f)
	case g.stream:
		s.stream(w, r, ctx, j, g, f)
	default:
		s.whole(w, r, ctx, j, f)
	}
}

// next waits for news from j and returns it; a context that ends first
// ends the job from the handler's side (the scheduler notices by itself).
func next(ctx context.Context, j *job) news {
	select {
	case <-j.out.notify:
	case <-ctx.Done():
	}
	n := j.out.take()
	if !n.done && ctx.Err() != nil {
		n.done, n.err = true, context.Cause(ctx)
	}
	return n
}

// whole answers with one JSON body once generation has ended.
func (s *Server) whole(w http.ResponseWriter, r *http.Request, ctx context.Context, j *job, f format) {
	var sb strings.Builder
	for {
		n := next(ctx, j)
		sb.WriteString(n.text)
		if !n.done {
			continue
		}
		if n.err != nil {
			if r.Context().Err() == nil {
				writeError(w, s.jobError(context.Cause(ctx), n.err))
			}
			return
		}
		writeJSON(w, http.StatusOK, f.full(sb.String(), n.reason, n.usage))
		return
	}
}

// stream answers with server-sent events as text arrives. An error after
// the stream has started (timeout, shutdown) goes out as an error event in
// OpenAI's shape, which client libraries raise as an API error.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, ctx context.Context, j *job, g genRequest, f format) {
	sw := newSSEWriter(w, s.cfg.WriteTimeout)
	if ev := f.opening(); ev != nil {
		if sw.event(ev) != nil {
			return
		}
	}
	for {
		n := next(ctx, j)
		if n.text != "" {
			if sw.event(f.delta(n.text)) != nil {
				return // the deferred cancel frees the slot
			}
		}
		if !n.done {
			continue
		}
		if n.err != nil {
			if r.Context().Err() == nil {
				_ = sw.event(errorBody{s.jobError(context.Cause(ctx), n.err)})
			}
			return
		}
		if sw.event(f.end(n.reason)) != nil {
			return
		}
		if g.includeUsage && sw.event(f.usage(n.usage)) != nil {
			return
		}
		_ = sw.done()
		return
	}
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
