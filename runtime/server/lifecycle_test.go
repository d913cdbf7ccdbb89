package server_test

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

// slowEndless makes e's greedy output endless at 1 ms a token. Requests
// that must not end by themselves ask for temperature 0: at temperature 1
// the fake still draws EOS with probability about 4.5e-5 a token, which
// about once in 200 runs ended a stream cleanly before the test's
// shutdown deadline or cancel.
func slowEndless(e *fakeengine.Engine) {
	e.Endless = true
	e.StepCost = func(int, int) time.Duration { return time.Millisecond }
}

// A client that goes away mid-stream frees its slot and KV cache, and the
// next request is served.
func TestDisconnectMidStream(t *testing.T) {
	for _, stream := range []bool{true, false} {
		name := "whole"
		if stream {
			name = "stream"
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, 1, 1<<20, server.Config{}, slowEndless)
			ctx, cancel := context.WithCancel(context.Background())
			body := `{"prompt":"a","stream":false,"temperature":0}`
			if stream {
				body = `{"prompt":"a","stream":true,"temperature":0}`
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/v1/completions", strings.NewReader(body))
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					sc := bufio.NewScanner(resp.Body)
					for sc.Scan() {
					}
					err = sc.Err()
					resp.Body.Close()
				}
				done <- err
			}()
			waitFor(t, "tokens to flow", func() bool { return ts.srv.Stats().Tokens > 3 })
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Errorf("client saw %v", err)
			}
			waitFor(t, "the slot to be freed", func() bool {
				return ts.srv.Stats().Busy == 0 && ts.eng.Stats().LiveSlots == 0
			})
			resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"x","max_tokens":2,"temperature":0}`)
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"text":"yz"`) {
				t.Errorf("next request: %d %s", resp.StatusCode, b)
			}
		})
	}
}

func TestRequestTimeout(t *testing.T) {
	// Long enough for a stream to send text first even under qemu on a
	// loaded machine; the stream is endless, so it times out regardless.
	ts := newTestServer(t, 1, 1<<20, server.Config{RequestTimeout: 300 * time.Millisecond}, slowEndless)
	resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"a","temperature":0}`)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(b), `"code":"timeout"`) {
		t.Errorf("whole: %d %s", resp.StatusCode, b)
	}
	resp, b = post(t, ts.url+"/v1/completions", `{"prompt":"a","stream":true,"temperature":0}`)
	s := readStream(t, strings.NewReader(string(b)))
	if resp.StatusCode != 200 || s.err == nil || s.err.Code == nil || *s.err.Code != "timeout" || s.done {
		t.Errorf("stream: %d, error %+v, [DONE] %v", resp.StatusCode, s.err, s.done)
	}
	if len(s.text) == 0 {
		t.Error("the stream sent no text before timing out")
	}
	waitFor(t, "the slot to be freed", func() bool { return ts.srv.Stats().Busy == 0 })
}

// serveLoopback runs srv on a real listener, as bitnet serve does.
func serveLoopback(t *testing.T, srv *server.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

func startStream(t *testing.T, url, body string) (<-chan streamed, *http.Response) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan streamed, 1)
	go func() {
		defer resp.Body.Close()
		ch <- readStream(t, resp.Body)
	}()
	return ch, resp
}

// Shutdown lets running streams finish, refuses new work and reports
// "shutting down" on /health meanwhile.
func TestShutdownFinishesStreams(t *testing.T) {
	eng := fakeengine.New(2, 4096)
	slowEndless(eng)
	srv, err := server.New(eng, server.Config{ModelID: "fake", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	url := serveLoopback(t, srv)
	got, _ := startStream(t, url+"/v1/completions", `{"prompt":"a","stream":true,"max_tokens":200,"temperature":0}`)
	waitFor(t, "the stream to start", func() bool { return srv.Stats().Tokens > 0 })

	shut := shutdownInBackground(srv)
	waitFor(t, "draining", func() bool {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		return rec.Code == http.StatusServiceUnavailable
	})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/completions", strings.NewReader(`{"prompt":"a"}`)))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "server_shutting_down") {
		t.Errorf("new request while draining: %d %s", rec.Code, rec.Body)
	}
	s := <-got
	if len(s.text) != 200 || s.finish != "length" || !s.done || s.err != nil {
		t.Errorf("stream during shutdown: %d chars, finish %q, done %v, err %+v", len(s.text), s.finish, s.done, s.err)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := http.Get(url + "/health"); err == nil {
		t.Error("the listener is still open after Shutdown")
	}
	if eng.Stats().LiveSlots != 0 {
		t.Error("a slot still holds a KV cache")
	}
}

// When the shutdown deadline passes, running streams end with an error
// event and queued requests with a 503; Shutdown still returns.
func TestShutdownDeadlineCancels(t *testing.T) {
	eng := fakeengine.New(1, 1<<20)
	slowEndless(eng)
	srv, err := server.New(eng, server.Config{ModelID: "fake", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	url := serveLoopback(t, srv)
	got, _ := startStream(t, url+"/v1/completions", `{"prompt":"a","stream":true,"temperature":0}`)
	waitFor(t, "the stream to start", func() bool { return srv.Stats().Tokens > 0 })
	queued := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"b"}`))
		if err != nil {
			t.Error(err)
			queued <- 0
			return
		}
		resp.Body.Close()
		queued <- resp.StatusCode
	}()
	waitFor(t, "a queued request", func() bool { return srv.Stats().Queued == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if code := <-queued; code != http.StatusServiceUnavailable {
		t.Errorf("queued request: %d", code)
	}
	s := <-got
	if s.err == nil || s.err.Code == nil || *s.err.Code != "server_shutting_down" || s.done {
		t.Errorf("stream: err %+v, done %v", s.err, s.done)
	}
	if eng.Stats().LiveSlots != 0 {
		t.Error("a slot still holds a KV cache")
	}
}

// A stream's per-write deadline does not outlive it: the kept-alive
// connection serves the next request however late it comes.
func TestKeepAliveAfterStream(t *testing.T) {
	ts := newTestServer(t, 1, 256, server.Config{WriteTimeout: 50 * time.Millisecond}, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	conns := 0
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, ts.url+"/v1/completions", strings.NewReader(`{"prompt":"w","stream":true,"temperature":0}`))
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				conns++
			}
		}}
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		s := readStream(t, resp.Body)
		resp.Body.Close()
		if s.text != "xyz" || !s.done {
			t.Fatalf("request %d: %q done=%v", i, s.text, s.done)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if conns != 1 {
		t.Errorf("%d connections opened, want 1 reused", conns)
	}
}

// shutdownInBackground starts a graceful shutdown of srv with 20 s for
// running requests, and returns where its result will come.
func shutdownInBackground(srv *server.Server) <-chan error {
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	return shut
}
