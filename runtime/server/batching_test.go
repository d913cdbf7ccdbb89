package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

// gate holds the engine's first step until opened, so that a test can
// line requests up behind it.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) hold(batch []server.StepEntry) { <-g.ch }
func (g *gate) open()                         { g.once.Do(func() { close(g.ch) }) }

// Requests that arrive while others run join them between steps: after the
// first step, all four sequences share every forward pass.
func TestSequencesShareSteps(t *testing.T) {
	g := newGate()
	ts := newTestServer(t, 4, 256, server.Config{}, func(e *fakeengine.Engine) { e.OnStep = g.hold })
	defer g.open()
	var wg sync.WaitGroup
	texts := make([]string, 4)
	for i := range texts {
		wg.Go(func() {
			_, b := post(t, ts.url+"/v1/completions", fmt.Sprintf(`{"prompt":"%c","temperature":0}`, 'a'+i))
			var r response
			decode(t, b, &r)
			texts[i] = r.Choices[0].Text
		})
	}
	waitFor(t, "all four requests in", func() bool { st := ts.srv.Stats(); return st.Busy+st.Queued == 4 })
	g.open()
	wg.Wait()
	for i, got := range texts {
		if want := alphabet[i+1:]; got != want {
			t.Errorf("request %d: %q, want %q", i, got, want)
		}
	}
	if st := ts.eng.Stats(); st.MaxSeqs != 4 {
		t.Errorf("at most %d sequences shared a step, want 4", st.MaxSeqs)
	}
}

// More requests than slots wait in the queue and all complete correctly.
func TestQueueBeyondSlots(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			resp, b := post(t, ts.url+"/v1/chat/completions",
				fmt.Sprintf(`{"messages":[{"role":"user","content":"q"}],"temperature":0,"max_tokens":%d,"stream":%v}`, i+1, i%2 == 0))
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("request %d: %d %s", i, resp.StatusCode, b)
				return
			}
			var text string
			if i%2 == 0 {
				text = readStream(t, strings.NewReader(string(b))).text
			} else {
				var r response
				decode(t, b, &r)
				text = r.Choices[0].Message.Content
			}
			if text != alphabet[:i+1] {
				errs <- fmt.Errorf("request %d: %q", i, text)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := ts.eng.Stats(); st.MaxSeqs > 2 || st.Frees != 12 {
		t.Errorf("stats %+v: want at most 2 sequences per step and 12 frees", st)
	}
}

func TestQueueFull(t *testing.T) {
	g := newGate()
	ts := newTestServer(t, 1, 256, server.Config{QueueLength: 1}, func(e *fakeengine.Engine) { e.OnStep = g.hold })
	defer g.open()
	body := `{"prompt":"x","max_tokens":2,"temperature":0}`
	results := make(chan int, 2)
	for range 2 {
		go func() {
			resp, _ := post(t, ts.url+"/v1/completions", body)
			results <- resp.StatusCode
		}()
	}
	waitFor(t, "one running and one queued", func() bool { st := ts.srv.Stats(); return st.Busy == 1 && st.Queued == 1 })
	resp, b := post(t, ts.url+"/v1/completions", body)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(b), `"code":"rate_limit_exceeded"`) {
		t.Errorf("third request: %d %s", resp.StatusCode, b)
	}
	g.open()
	for range 2 {
		if code := <-results; code != 200 {
			t.Errorf("queued request got %d", code)
		}
	}
}

// A long prompt is read in chunks while another sequence decodes, so the
// running stream gets a token every step instead of waiting for the whole
// prompt.
func TestPrefillIsChunked(t *testing.T) {
	const chunk = 8
	var mu sync.Mutex
	type step struct{ entries, tokens int }
	var steps []step
	ts := newTestServer(t, 2, 4096, server.Config{PrefillChunk: chunk}, func(e *fakeengine.Engine) {
		e.Endless = true
		e.StepCost = func(int, int) time.Duration { return 100 * time.Microsecond }
		e.OnStep = func(b []server.StepEntry) {
			n := 0
			for _, x := range b {
				n += len(x.Tokens)
			}
			mu.Lock()
			steps = append(steps, step{len(b), n})
			mu.Unlock()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	streamDone := make(chan streamed, 1)
	go func() {
		defer close(streamDone)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.url+"/v1/completions",
			strings.NewReader(`{"prompt":"a","temperature":0,"stream":true}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		streamDone <- readStream(t, resp.Body)
	}()
	waitFor(t, "the stream to decode", func() bool { return ts.srv.Stats().Tokens > 5 })
	mu.Lock()
	before := len(steps)
	mu.Unlock()
	long := strings.Repeat("p", 600)
	resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"`+long+`","temperature":0,"max_tokens":1}`)
	if resp.StatusCode != 200 {
		t.Fatalf("long prompt: %d %s", resp.StatusCode, b)
	}
	mu.Lock()
	during := steps[before:]
	mu.Unlock()
	shared := 0
	for _, s := range during {
		if s.entries == 2 {
			shared++
			if s.tokens > chunk+1 {
				t.Fatalf("a step with a running stream evaluated %d tokens, want at most %d", s.tokens, chunk+1)
			}
		}
	}
	if want := 601 / chunk; shared < want {
		t.Errorf("%d steps interleaved the prompt with the stream, want at least %d", shared, want)
	}
	cancel()
	<-streamDone
	waitFor(t, "the cancelled stream's slot", func() bool { return ts.srv.Stats().Busy == 0 })
}

// An engine failure fails the sequences in that step with a 500; the
// server keeps serving.
func TestStepError(t *testing.T) {
	var mu sync.Mutex
	fail := true
	ts := newTestServer(t, 1, 256, server.Config{}, func(e *fakeengine.Engine) {
		e.FailStep = func([]server.StepEntry) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("out of cheese")
			}
			return nil
		}
	})
	resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"a","max_tokens":2}`)
	if resp.StatusCode != 500 || !strings.Contains(string(b), "out of cheese") || !strings.Contains(string(b), `"type":"server_error"`) {
		t.Errorf("failing step: %d %s", resp.StatusCode, b)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"a","max_tokens":2}`); resp.StatusCode != 200 {
		t.Errorf("after the failure: %d %s", resp.StatusCode, b)
	}
}
