package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus metrics, served at /metrics in the
// text exposition format. Each Server has its own registry, so that several
// servers in one process (tests) do not collide.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec // by endpoint and status code
	prompt    prometheus.Counter
	generated prometheus.Counter
	ttft      prometheus.Histogram
	rate      prometheus.Histogram
}

func newMetrics(s *Server) *metrics {
	const ns = "bitnet"
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "requests_total",
			Help: "HTTP requests answered, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		prompt: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "prompt_tokens_total",
			Help: "Prompt tokens of finished requests (once per request, whatever n).",
		}),
		generated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Name: "generated_tokens_total",
			Help: "Tokens sampled, end-of-generation tokens included.",
		}),
		ttft: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "time_to_first_token_seconds",
			Help:    "From a request's arrival (queueing included) to its first sampled token.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms … 41 s
		}),
		rate: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "generation_tokens_per_second",
			Help:    "Decode speed of each finished sequence: tokens after the first over the time since the first.",
			Buckets: prometheus.ExponentialBuckets(0.5, 2, 14), // 0.5 … 4096 tokens/s
		}),
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: name, Help: help}, f)
	}
	m.reg.MustRegister(m.requests, m.prompt, m.generated, m.ttft, m.rate,
		gauge("queue_depth", "Requests (choices) waiting for a slot.", func() float64 { return float64(s.sched.queued()) }),
		gauge("slots_busy", "KV cache slots holding a running sequence.", func() float64 { return float64(s.sched.nActive.Load()) }),
		gauge("slots_total", "KV cache slots (--parallel).", func() float64 { return float64(s.eng.Slots()) }),
		counter("steps_total", "Batched forward passes run.", func() float64 { return float64(s.sched.steps.Load()) }),
		counter("prompt_tokens_shared_total", "Prompt positions copied between the choices of n > 1 requests instead of evaluated.",
			func() float64 { return float64(s.sched.shared.Load()) }),
	)
	return m
}

// handler serves the registry.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// firstToken records a sequence's time to first token.
func (m *metrics) firstToken(j *job) {
	if m != nil {
		m.ttft.Observe(j.firstAt.Sub(j.submitted).Seconds())
	}
}

// finished records a sequence that left its slot.
func (m *metrics) finished(j *job, err error) {
	if m == nil {
		return
	}
	if j.share == nil {
		m.prompt.Add(float64(len(j.prompt)))
	}
	m.generated.Add(float64(j.generated))
	if err == nil && j.generated > 1 {
		if d := time.Since(j.firstAt).Seconds(); d > 0 {
			m.rate.Observe(float64(j.generated-1) / d)
		}
	}
}

// count wraps h to count its requests by route and status.
func (m *metrics) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		// The mux has set the matched pattern by now; unmatched paths all
		// fall under "/", which keeps the label set bounded.
		endpoint := r.Pattern
		if endpoint == "" || endpoint == "/" {
			endpoint = "other"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.requests.WithLabelValues(endpoint, strconv.Itoa(sw.status)).Inc()
	})
}

// statusWriter remembers the status code written through it. Unwrap lets
// http.ResponseController reach the connection (flushes and deadlines of
// streams).
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
