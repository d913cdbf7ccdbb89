package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets the server's identity and limits. Zero fields take the
// defaults documented on each.
type Config struct {
	// ModelID names the model in /v1/models and in responses. Required.
	ModelID string
	// StrictModel makes requests that name another model than ModelID get
	// 404 model_not_found. By default any name is served, as llama-server
	// does, since clients default to names such as "gpt-4o-mini".
	StrictModel bool
	// CORSOrigins are the origins a browser may call the API from: exact
	// origins ("https://app.example"), or "*" for any. None by default.
	CORSOrigins []string
	// BuildInfo is the version string /props reports.
	BuildInfo string
	// APIKey, when set, must come as "Authorization: Bearer KEY" on every
	// request except GET /health.
	APIKey string

	// MaxBodyBytes bounds a request body (413 beyond). Default 4 MiB.
	MaxBodyBytes int64
	// MaxTokens caps max_tokens, and is the default when a request gives
	// none; a request is also cut at the context length. Default: the
	// context length.
	MaxTokens int
	// QueueLength is how many requests may wait for a free slot; more get
	// 429. Default 64.
	QueueLength int
	// BatchTokens is the most tokens one forward step evaluates. Default 512.
	BatchTokens int
	// PrefillChunk is the most prompt tokens a step takes while other
	// sequences are decoding, which bounds how long a new prompt delays
	// their next token. Default 64.
	PrefillChunk int
	// RequestTimeout bounds a request from arrival to its last token,
	// queueing included (504 or an error event beyond). Default 10 minutes;
	// negative means none.
	RequestTimeout time.Duration
	// WriteTimeout bounds each write of a stream to a client, so a client
	// that stops reading is dropped. Default 30 s.
	WriteTimeout time.Duration
	// MaxConnections caps the connections Serve handles at once; a few
	// more are accepted only to answer /health. Default: what the
	// process's file descriptor limit allows, less a reserve.
	MaxConnections int

	// NewSampler makes each sequence's sampler. Default NewLocalSampler.
	NewSampler NewSamplerFunc
	// Logger receives request and lifecycle logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults(eng Engine) error {
	if c.ModelID == "" {
		return errors.New("server: Config.ModelID is required")
	}
	if eng.Slots() < 1 || eng.ContextLength() < 2 {
		return fmt.Errorf("server: engine has %d slots and a context of %d", eng.Slots(), eng.ContextLength())
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	def(&c.MaxTokens, eng.ContextLength())
	def(&c.QueueLength, 64)
	def(&c.BatchTokens, 512)
	def(&c.PrefillChunk, 64)
	// Every decoding sequence needs one token of each step.
	c.BatchTokens = max(c.BatchTokens, eng.Slots()+1)
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("server: Config.MaxConnections is %d; give a positive cap, or 0 for what the descriptor limit allows", c.MaxConnections)
	}
	if room := connectionRoom(); c.MaxConnections > room {
		// Past the descriptor limit accept fails and nothing, /health
		// included, is served: a cap above it would never hold.
		return fmt.Errorf("server: %d connections do not fit the open-file limit of %d (ulimit -n), which leaves room for %d after the model, the listener and the /health reserve; raise the limit or lower the cap",
			c.MaxConnections, fdLimit(), room)
	}
	if c.NewSampler == nil {
		c.NewSampler = NewLocalSampler
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Server serves one Engine over HTTP. Create it with New; it runs its
// scheduler until Shutdown or Close.
type Server struct {
	eng     Engine
	cfg     Config
	sched   *scheduler
	handler http.Handler
	created int64

	draining atomic.Bool
	handlers *inflight // generation handlers
	metrics  *metrics
	gvocab   grammarVocab

	mu   sync.Mutex
	http *http.Server
}

// New starts a server's scheduler over eng.
func New(eng Engine, cfg Config) (*Server, error) {
	if err := cfg.setDefaults(eng); err != nil {
		return nil, err
	}
	s := &Server{eng: eng, cfg: cfg, created: time.Now().Unix(), handlers: newInflight()}
	s.sched = newScheduler(eng, cfg)
	s.metrics = newMetrics(s)
	s.sched.metrics = s.metrics
	s.handler = s.routes()
	go s.sched.run()
	return s, nil
}

// Handler returns the HTTP handler, for use with any http.Server or
// httptest.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown or Close, with timeouts
// suited to long streams: headers must arrive promptly, but a response may
// stream for as long as RequestTimeout allows.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
		ConnContext:       connContext,
	}
	ln = newLimitListener(ln, s.maxConnections())
	s.mu.Lock()
	if s.draining.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.http = hs
	s.mu.Unlock()
	return hs.Serve(ln)
}

// Shutdown stops taking requests (queued ones get 503), lets running
// generations finish until ctx is done, then ends the rest: streams get an
// error event and a clean end, waiting requests a 503. It returns once
// every handler has returned and the scheduler has stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.sched.drain()
	s.mu.Lock()
	hs := s.http
	s.mu.Unlock()

	finished := s.handlers.close()
	// The listener stays open while running generations finish, so that
	// /health can answer 503 and new requests get a 503 rather than a
	// refused connection; http.Server.Shutdown closes it first thing.
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if hs != nil && err == nil {
		err = hs.Shutdown(ctx)
	}
	if err != nil {
		s.cfg.Logger.Warn("shutdown deadline reached; cancelling running requests", "running", s.sched.nActive.Load())
		s.sched.cancelAll(errShuttingDown)
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
		}
		if hs != nil {
			hs.Close()
		}
	}
	s.sched.stop()
	return err
}

// Close stops at once: every request is cancelled and connections are
// closed.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.handlers.close()
	s.sched.stop()
	s.mu.Lock()
	hs := s.http
	s.mu.Unlock()
	if hs != nil {
		return hs.Close()
	}
	return nil
}

// Stats is a snapshot of the scheduler, for /health and logs.
type Stats struct {
	Slots   int   `json:"slots_total"`
	Busy    int   `json:"slots_busy"`
	Queued  int   `json:"queued"`
	Steps   int64 `json:"steps"`
	Tokens  int64 `json:"tokens_generated"`
	Shared  int64 `json:"prompt_tokens_shared"` // prompt positions copied between choices (n > 1) instead of evaluated
	Context int   `json:"context_length"`
}

// Stats returns the scheduler's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Slots:   s.eng.Slots(),
		Busy:    int(s.sched.nActive.Load()),
		Queued:  s.sched.queued(),
		Steps:   s.sched.steps.Load(),
		Tokens:  s.sched.tokens.Load(),
		Shared:  s.sched.shared.Load(),
		Context: s.eng.ContextLength(),
	}
}
