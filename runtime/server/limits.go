package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// This file bounds what a client can make the server hold: prompt bytes
// before tokenizing, the time a request body may take to arrive, and the
// number of connections.

// TokenBounder is an optional Engine method: the most bytes of text one
// token can stand for (the longest token of the vocabulary). With it the
// server refuses, before tokenizing, a prompt too long to fit the context
// whatever its tokens, so that a client cannot make it tokenize megabytes
// it would refuse anyway.
type TokenBounder interface {
	MaxTokenBytes() int
}

// promptByteLimit is the most bytes of text whose tokens might fit the
// context, or 0 when the engine cannot say.
func (s *Server) promptByteLimit() int {
	tb, ok := s.eng.(TokenBounder)
	if !ok || tb.MaxTokenBytes() <= 0 {
		return 0
	}
	return s.eng.ContextLength() * tb.MaxTokenBytes()
}

// tooLongText is the error for a prompt refused by its size in bytes.
func (s *Server) tooLongText(param string, n int) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: strp("context_length_exceeded"),
		Param: strp(param),
		Message: fmt.Sprintf("This model's maximum context length is %d tokens; a prompt of %d bytes cannot fit in it (at most %d bytes can); shorten it",
			s.eng.ContextLength(), n, s.promptByteLimit())}
}

// LimitEncoder is an optional Engine method set: EncodePrompt and
// EncodeChat that stop tokenizing soon after the tokens pass limit and then
// report ok false. With it a prompt that fits the context in bytes but not
// in tokens costs a context's worth of tokenizing, not the whole text's.
type LimitEncoder interface {
	EncodePromptLimit(text string, limit int) (ids []int32, ok bool)
	EncodeChatLimit(msgs []ChatMessage, limit int) (ids []int32, ok bool, err error)
}

// tooManyTokens is the error for a prompt whose tokenizing stopped at the
// context.
func (s *Server) tooManyTokens(param string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: strp("context_length_exceeded"),
		Param: strp(param),
		Message: fmt.Sprintf("This model's maximum context length is %d tokens, but the prompt has more than that; shorten it",
			s.eng.ContextLength())}
}

// encodePrompt tokenizes a completion prompt unless its size alone shows
// that it cannot fit the context, and stops where it stops fitting.
func (s *Server) encodePrompt(text string) ([]int32, *apiError) {
	if limit := s.promptByteLimit(); limit > 0 && len(text) > limit {
		return nil, s.tooLongText("prompt", len(text))
	}
	if le, ok := s.eng.(LimitEncoder); ok {
		// Up to ContextLength-1 tokens leave room for one of reply.
		ids, fits := le.EncodePromptLimit(text, s.eng.ContextLength()-1)
		if !fits {
			return nil, s.tooManyTokens("prompt")
		}
		return ids, nil
	}
	return s.eng.EncodePrompt(text), nil
}

// encodeChat renders and tokenizes messages, stopping where they stop
// fitting the context. A template error is a 400 on messages.
func (s *Server) encodeChat(msgs []ChatMessage) ([]int32, *apiError) {
	if le, ok := s.eng.(LimitEncoder); ok {
		ids, fits, err := le.EncodeChatLimit(msgs, s.eng.ContextLength()-1)
		switch {
		case err != nil:
			return nil, badRequest("messages", err.Error())
		case !fits:
			return nil, s.tooManyTokens("messages")
		}
		return ids, nil
	}
	ids, err := s.eng.EncodeChat(msgs)
	if err != nil {
		return nil, badRequest("messages", err.Error())
	}
	return ids, nil
}

// checkChatSize refuses messages whose text alone is longer than any
// prompt that fits the context (the template only adds to it).
func (s *Server) checkChatSize(msgs []ChatMessage) *apiError {
	limit := s.promptByteLimit()
	if limit <= 0 {
		return nil
	}
	n := 0
	for _, m := range msgs {
		n += len(m.Content)
	}
	if n > limit {
		return s.tooLongText("messages", n)
	}
	return nil
}

// maxBodyTime bounds the arrival of a request body when RequestTimeout is
// longer or unset: a legitimate client sends its few megabytes in seconds.
const maxBodyTime = time.Minute

// bodyTimeout is how long a request body may take to arrive.
func (s *Server) bodyTimeout() time.Duration {
	if t := s.cfg.RequestTimeout; t > 0 && t < maxBodyTime {
		return t
	}
	return maxBodyTime
}

// bodyDeadline gives each request's body bodyTimeout to arrive, so that a
// client trickling a byte every few seconds cannot hold its connection (and
// a file descriptor) for ever. The deadline is lifted as soon as the body
// has been read: left in place, it would cut the response of a long
// generation.
func (s *Server) bodyDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// Fails only where the connection has no deadlines (httptest's
			// recorder): nothing to bound there.
			if rc.SetReadDeadline(time.Now().Add(s.bodyTimeout())) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: s.bodyTimeout()}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the connection's read deadline once the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	once    sync.Once
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var ne net.Error
	switch {
	case err == io.EOF:
		b.once.Do(func() { b.rc.SetReadDeadline(time.Time{}) })
	case errors.As(err, &ne) && ne.Timeout():
		// The deadline stays: the connection is closed after the answer.
		err = fmt.Errorf("the request body did not arrive within %v", b.timeout)
	}
	return n, err
}

// Connection limits. Every connection costs a file descriptor; past the
// process's limit, accept fails and nothing, /health included, is served.
const (
	// fdReserve is kept free of connections for the model file, the
	// listener and the runtime's own descriptors.
	fdReserve = 64
	// overflowConns are accepted beyond the cap to answer /health (and
	// 503 to anything else) so that a probe still gets through while
	// the regular connections are all taken.
	overflowConns = 16
	// overflowTime bounds an overflow connection from accept to close.
	overflowTime = 2 * time.Second
)

// maxConnections is the cap on regular connections: Config.MaxConnections,
// else what the descriptor limit leaves after the reserve.
func (s *Server) maxConnections() int {
	if s.cfg.MaxConnections > 0 {
		return s.cfg.MaxConnections
	}
	return connectionRoom()
}

// connectionRoom is the most regular connections the descriptor limit
// leaves room for.
func connectionRoom() int {
	return max(fdLimit()-fdReserve-overflowConns, 16)
}

// limitListener caps the connections served at once. The first n are
// regular; up to overflowConns more are served under a short deadline and
// only for /health; beyond that, Accept waits for a connection to close.
type limitListener struct {
	net.Listener
	regular  chan struct{}
	overflow chan struct{}
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, regular: make(chan struct{}, n), overflow: make(chan struct{}, overflowConns)}
}

func (l *limitListener) Accept() (net.Conn, error) {
	var slot chan struct{}
	select {
	case l.regular <- struct{}{}:
		slot = l.regular
	default:
		select {
		case l.regular <- struct{}{}:
			slot = l.regular
		case l.overflow <- struct{}{}:
			slot = l.overflow
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-slot
		return nil, err
	}
	lc := &limitedConn{Conn: c, release: func() { <-slot }}
	if slot == l.overflow {
		lc.overflow = true
		c.SetDeadline(time.Now().Add(overflowTime))
	}
	return lc, nil
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	overflow bool
	once     sync.Once
	release  func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// SetDeadline keeps an overflow connection's short deadline: net/http
// would otherwise replace it with its own.
func (c *limitedConn) SetDeadline(t time.Time) error {
	if c.overflow {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c *limitedConn) SetReadDeadline(t time.Time) error {
	if c.overflow {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *limitedConn) SetWriteDeadline(t time.Time) error {
	if c.overflow {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// overflowKey marks the context of requests on overflow connections.
type overflowKey struct{}

// connContext tags requests that arrive on an overflow connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok && lc.overflow {
		return context.WithValue(ctx, overflowKey{}, true)
	}
	return ctx
}

// overflowGuard answers requests on overflow connections: /health as
// usual, anything else 503, and the connection is closed after.
func overflowGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(overflowKey{}) == nil {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/health" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		writeError(w, newAPIError(http.StatusServiceUnavailable, typeServer, "too_many_connections",
			"the server has too many open connections; retry shortly"))
	})
}
