package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

type testServer struct {
	url string
	eng *fakeengine.Engine
	srv *server.Server
}

// newTestServer serves a fake engine over httptest. setup may adjust the
// engine before the scheduler starts. At cleanup it checks that the
// scheduler kept the engine's contract and freed every slot.
func newTestServer(t *testing.T, slots, ctx int, cfg server.Config, setup func(*fakeengine.Engine)) *testServer {
	t.Helper()
	eng := fakeengine.New(slots, ctx)
	if setup != nil {
		setup(eng)
	}
	if cfg.ModelID == "" {
		cfg.ModelID = "fake"
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	srv, err := server.New(eng, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		srv.Close()
		hs.Close()
		st := eng.Stats()
		for _, v := range st.Violations {
			t.Errorf("engine contract violated: %s", v)
		}
		if st.LiveSlots != 0 {
			t.Errorf("%d slots still hold a KV cache after close", st.LiveSlots)
		}
	})
	return &testServer{url: hs.URL, eng: eng, srv: srv}
}

// post sends a JSON body and returns the response with its body read.
func post(t *testing.T, url, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	resp, b := request(t, http.MethodGet, url, header...)
	return resp, []byte(b)
}

// request sends a body-less request with the given header pairs and
// returns the response and its whole body.
func request(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// sseData splits a server-sent event stream into its data payloads.
func sseData(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("stream line without data: prefix: %q", line)
		}
		out = append(out, data)
	}
	return out
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
}

// Response shapes as a client reads them.
type usage struct {
	Prompt     int `json:"prompt_tokens"`
	Completion int `json:"completion_tokens"`
	Total      int `json:"total_tokens"`
}

type response struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Model   string `json:"model"`
	Created int64  `json:"created"`
	Choices []struct {
		Index   int    `json:"index"`
		Text    string `json:"text"`
		Message struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Role    string  `json:"role"`
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage  `json:"usage"`
	Error *apiErr `json:"error"`
}

type apiErr struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// streamed is what a client assembles from a stream.
type streamed struct {
	text   string
	finish string
	usage  *usage
	done   bool // saw [DONE]
	err    *apiErr
	events []response
}

func readStream(t *testing.T, r io.Reader) streamed {
	t.Helper()
	var s streamed
	for _, d := range sseData(t, r) {
		if d == "[DONE]" {
			s.done = true
			continue
		}
		var ev response
		decode(t, []byte(d), &ev)
		s.events = append(s.events, ev)
		if ev.Error != nil {
			s.err = ev.Error
		}
		if ev.Usage != nil {
			s.usage = ev.Usage
		}
		for _, c := range ev.Choices {
			s.text += c.Text
			if c.Delta.Content != nil {
				s.text += *c.Delta.Content
			}
			if c.FinishReason != nil {
				s.finish = *c.FinishReason
			}
		}
	}
	return s
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI runs this under qemu
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
