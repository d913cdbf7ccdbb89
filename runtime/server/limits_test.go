package server_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

// boundedEngine is the fake engine with a vocabulary whose longest token
// is 4 bytes, counting the texts it is asked to tokenize.
type boundedEngine struct {
	*fakeengine.Engine
	encoded atomic.Int64
}

func (e *boundedEngine) MaxTokenBytes() int { return 4 }

func (e *boundedEngine) EncodePrompt(text string) []int32 {
	e.encoded.Add(1)
	return e.Engine.EncodePrompt(text)
}

func (e *boundedEngine) EncodeChat(msgs []server.ChatMessage) ([]int32, error) {
	e.encoded.Add(1)
	return e.Engine.EncodeChat(msgs)
}

func newLimitServer(t *testing.T, eng server.Engine, cfg server.Config) (*server.Server, string) {
	t.Helper()
	cfg.ModelID = "fake"
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := server.New(eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, serveLoopback(t, srv)
}

// TestOversizedPromptNotTokenized: a prompt longer in bytes than the
// context could hold in tokens is refused before it is tokenized (16
// concurrent 3.9 MB prompts used to cost 4.7 GB of tokenizer scratch).
func TestOversizedPromptNotTokenized(t *testing.T) {
	const ctxLen = 256 // at most 256*4 = 1024 bytes can fit
	eng := &boundedEngine{Engine: fakeengine.New(1, ctxLen)}
	_, url := newLimitServer(t, eng, server.Config{})
	big := strings.Repeat("a", 1025)
	tests := []struct {
		name, path, body string
		wantEncoded      int64
		wantStatus       int
	}{
		{"completion string", "/v1/completions", `{"prompt":"` + big + `","max_tokens":1}`, 0, 400},
		{"completion array", "/v1/completions", `{"prompt":["` + big + `"],"max_tokens":1}`, 0, 400},
		{"chat", "/v1/chat/completions", `{"messages":[{"role":"user","content":"` + big[:600] + `"},{"role":"user","content":"` + big[:600] + `"}],"max_tokens":1}`, 0, 400},
		{"completion that may fit", "/v1/completions", `{"prompt":"` + big[:1000] + `","max_tokens":1}`, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := eng.encoded.Load()
			resp, b := post(t, url+tt.path, tt.body)
			if got := eng.encoded.Load() - before; got != tt.wantEncoded {
				t.Errorf("tokenized %d times, want %d", got, tt.wantEncoded)
			}
			if tt.wantStatus != 0 && (resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), "context_length_exceeded")) {
				t.Errorf("%d %s", resp.StatusCode, b)
			}
		})
	}
}

// TestSlowBodyIsCut: a client that announces a large body and trickles it
// is cut off once the body timeout (RequestTimeout, when shorter than a
// minute) has passed, instead of holding its connection indefinitely.
func TestSlowBodyIsCut(t *testing.T) {
	eng := fakeengine.New(1, 256)
	_, url := newLimitServer(t, eng, server.Config{RequestTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n{")
	start := time.Now()
	closed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(bufio.NewReader(conn))
		closed <- string(b)
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	// Far past the 300 ms limit, with room for qemu on a loaded machine:
	// without the limit the trickle holds the connection for ever.
	giveUp := time.After(20 * time.Second)
	for {
		select {
		case got := <-closed:
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the server held the slow body for %v", d)
			}
			if got != "" && !strings.Contains(got, "did not arrive within") {
				t.Errorf("answer to a slow body: %q", got)
			}
			return
		case <-tick.C:
			conn.Write([]byte(" ")) // one byte at a time, never enough
		case <-giveUp:
			t.Fatal("the slow body still holds its connection after 20 s")
		}
	}
}

// TestConnectionCap: connections beyond MaxConnections get /health and a
// 503 for anything else, so that a crowd of idle or slow clients can
// neither exhaust the file descriptors nor starve the health probe.
func TestConnectionCap(t *testing.T) {
	eng := fakeengine.New(1, 256)
	_, url := newLimitServer(t, eng, server.Config{MaxConnections: 4})
	addr := strings.TrimPrefix(url, "http://")
	for range 4 { // idle clients take every regular connection
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, "/health to answer beyond the cap", func() bool {
		resp, err := client.Get(url + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	resp, err := client.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":"a","max_tokens":1}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "too_many_connections") {
		t.Errorf("generation beyond the cap: %d %s", resp.StatusCode, b)
	}
}

// TestHealthOverListenerWhileDraining: during a graceful shutdown the
// listener stays open until running generations end, so /health answers
// 503 over the network, as `serve --help` promises.
func TestHealthOverListenerWhileDraining(t *testing.T) {
	eng := fakeengine.New(2, 4096)
	slowEndless(eng)
	srv, url := newLimitServer(t, eng, server.Config{})
	got, _ := startStream(t, url+"/v1/completions", `{"prompt":"a","stream":true,"max_tokens":300,"temperature":0}`)
	waitFor(t, "the stream to start", func() bool { return srv.Stats().Tokens > 0 })
	shut := shutdownInBackground(srv)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, "/health to say 503 over the listener", func() bool {
		resp, err := client.Get(url + "/health")
		if err != nil {
			t.Fatalf("/health while draining: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	})
	<-got
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestConnectionCapConfig: a cap the descriptor limit cannot hold, or a
// negative one, is refused when the server is made, not discovered when
// accept starts failing.
func TestConnectionCapConfig(t *testing.T) {
	for _, tt := range []struct {
		max  int
		want string
	}{
		{-1, "MaxConnections is -1"},
		{1 << 30, "do not fit the open-file limit"},
	} {
		_, err := server.New(fakeengine.New(1, 256), server.Config{ModelID: "m", MaxConnections: tt.max})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MaxConnections %d: error %v, want one containing %q", tt.max, err, tt.want)
		}
	}
}

// TestLongPromptTokenizedUpToContext: a prompt that may fit the context by
// its bytes but not by its tokens is tokenized only until it passes the
// context, then refused with context_length_exceeded, on both endpoints.
func TestLongPromptTokenizedUpToContext(t *testing.T) {
	m := tinyModel(t)
	url, eng, _ := serveModel(t, m, 1)
	ctxLen := eng.ContextLength()
	text := strings.Repeat(" a", 4*ctxLen) // a token per word: 4 contexts' worth
	if limit := ctxLen * eng.MaxTokenBytes(); len(text) > limit {
		t.Fatalf("the text (%d bytes) must pass the byte bound (%d) for this test", len(text), limit)
	}
	ids, ok := eng.EncodePromptLimit(text, ctxLen-1)
	if ok || len(ids) < ctxLen || len(ids) > ctxLen+8 {
		t.Errorf("EncodePromptLimit: ok %v with %d tokens; want a stop just past %d", ok, len(ids), ctxLen-1)
	}
	msgs := []server.ChatMessage{{Role: "user", Content: text}}
	if ids, ok, err := eng.EncodeChatLimit(msgs, ctxLen-1); err != nil || ok || len(ids) < ctxLen || len(ids) > ctxLen+8 {
		t.Errorf("EncodeChatLimit: ok %v, err %v, %d tokens; want a stop just past %d", ok, err, len(ids), ctxLen-1)
	}
	// At the limit exactly, the whole prompt comes back.
	short := strings.Repeat(" a", 10)
	if ids, ok := eng.EncodePromptLimit(short, ctxLen-1); !ok || !slices.Equal(ids, eng.EncodePrompt(short)) {
		t.Errorf("a short prompt: ok %v, %v", ok, ids)
	}
	shortMsgs := []server.ChatMessage{{Role: "user", Content: short}}
	full, err := eng.EncodeChat(shortMsgs)
	if err != nil {
		t.Fatal(err)
	}
	if ids, ok, _ := eng.EncodeChatLimit(shortMsgs, len(full)); !ok || !slices.Equal(ids, full) {
		t.Errorf("chat at its own length: ok %v, %v, want %v", ok, ids, full)
	}
	if _, ok, _ := eng.EncodeChatLimit(shortMsgs, len(full)-1); ok {
		t.Errorf("chat one token over the limit: ok")
	}
	for _, tt := range []struct{ path, body, param string }{
		{"/v1/completions", `{"prompt":"` + text + `","max_tokens":1}`, `"param":"prompt"`},
		{"/v1/chat/completions", `{"messages":[{"role":"user","content":"` + text + `"}],"max_tokens":1}`, `"param":"messages"`},
	} {
		resp, b := post(t, url+tt.path, tt.body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "context_length_exceeded") || !strings.Contains(string(b), tt.param) {
			t.Errorf("%s: %d %s", tt.path, resp.StatusCode, b)
		}
	}
}
