package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	parallel  int
	tokens    int64
	window    time.Duration
	tokPerSec float64
	requests  int64
	errors    int64
	samples   []string
	rssStart  int64
	rssPeak   int64
	rssEnd    int64
	rssPeak1  int64         // peak over the first half of the window
	rssPeak2  int64         // peak over the second half
	p50, p95  time.Duration // request latency
	stopTime  time.Duration
	problem   string
	schema    *structuredCheck // the constrained requests, when -json-schema-every is set
}

func (r result) String() string {
	s := fmt.Sprintf("parallel=%d: %d tokens in %.1f s = %.1f tok/s; %d requests (latency p50 %s, p95 %s), %d errors; "+
		"server RSS %.1f MiB at window start, peak %.1f (first half %.1f, second half %.1f), end %.1f; SIGTERM exit in %s",
		r.parallel, r.tokens, r.window.Seconds(), r.tokPerSec, r.requests, r.p50.Round(time.Millisecond),
		r.p95.Round(time.Millisecond), r.errors, mib(r.rssStart), mib(r.rssPeak), mib(r.rssPeak1), mib(r.rssPeak2), mib(r.rssEnd), r.stopTime.Round(time.Millisecond))
	if r.schema != nil {
		s += "; " + r.schema.String()
	}
	return s
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// measure runs the clients against a fresh server with the given parallel.
func measure(ctx context.Context, o options, parallel int) (result, error) {
	r := result{parallel: parallel}
	if o.schemaEvery > 0 {
		r.schema = newStructuredCheck()
	}
	srv, err := startServer(o, parallel)
	if err != nil {
		return r, err
	}
	defer srv.kill()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	httpc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients}}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		counting  atomic.Bool
		wg        sync.WaitGroup
	)
	for c := range o.clients {
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				start := time.Now()
				format := ""
				if o.schemaEvery > 0 && (c+n)%o.schemaEvery == 0 {
					format = loadFormat
				}
				_, text, finish, err := streamChat(ctx, httpc, srv.base, c, n, o.maxTokens, format)
				if ctx.Err() != nil {
					return // the end of the run, not an error
				}
				if err == nil && format != "" {
					r.schema.record(text, finish)
				}
				mu.Lock()
				if err != nil { // warm-up errors count too
					r.errors++
					if len(r.samples) < 3 {
						r.samples = append(r.samples, err.Error())
					}
				} else if counting.Load() {
					r.requests++
					latencies = append(latencies, time.Since(start))
				}
				mu.Unlock()
			}
		})
	}

	time.Sleep(o.warmup)
	t0, err := srv.generated(ctx)
	if err != nil {
		return r, fmt.Errorf("%v; server output:\n%s", err, srv.output())
	}
	start := time.Now()
	counting.Store(true)
	if r.rssStart, err = srv.rss(); err != nil {
		return r, err
	}
	r.rssPeak = r.rssStart
	tick := time.NewTicker(250 * time.Millisecond)
	half := start.Add(o.duration / 2)
	for deadline := start.Add(o.duration); time.Now().Before(deadline); {
		<-tick.C
		if v, err := srv.rss(); err == nil {
			r.rssPeak = max(r.rssPeak, v)
			if time.Now().Before(half) {
				r.rssPeak1 = max(r.rssPeak1, v)
			} else {
				r.rssPeak2 = max(r.rssPeak2, v)
			}
		}
	}
	tick.Stop()
	t1, err := srv.generated(ctx)
	if err != nil {
		return r, fmt.Errorf("%v; server output:\n%s", err, srv.output())
	}
	r.window = time.Since(start)
	counting.Store(false)
	r.rssEnd, _ = srv.rss()
	r.tokens = t1 - t0
	r.tokPerSec = float64(r.tokens) / r.window.Seconds()

	// Cancel every client mid-stream, then check the server still serves.
	cancel()
	wg.Wait()
	mu.Lock()
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		r.p50, r.p95 = latencies[n/2], latencies[n*95/100]
	}
	mu.Unlock()
	after, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	if _, _, _, err := streamChat(after, http.DefaultClient, srv.base, -1, 0, 4, ""); err != nil {
		r.problem = "after the clients disconnected, a request failed: " + err.Error()
	}
	if r.stopTime, err = srv.stop(); err != nil {
		r.problem += fmt.Sprintf("server exit after SIGTERM: %v\n%s", err, srv.output())
	}
	return r, nil
}
