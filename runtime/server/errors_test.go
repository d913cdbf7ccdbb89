package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
)

// Every bad request gets the right status in OpenAI's error shape, and the
// server goes on serving.
func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, 2, 64, server.Config{MaxBodyBytes: 4096}, nil)
	const chat, compl = "/v1/chat/completions", "/v1/completions"
	long := `{"prompt":"` + strings.Repeat("x", 200) + `"}`
	tests := []struct {
		name, path, body string
		status           int
		param, code      string
	}{
		{"malformed JSON", chat, `{"messages": [`, 400, "", ""},
		{"trailing garbage", chat, `{"messages":[{"role":"user","content":"x"}]} x`, 400, "", ""},
		{"not an object", chat, `[1,2]`, 400, "", ""},
		{"empty body", chat, ``, 400, "", ""},
		{"max_tokens string", chat, `{"messages":[{"role":"user","content":"x"}],"max_tokens":"5"}`, 400, "max_tokens", ""},
		{"max_tokens float", compl, `{"prompt":"x","max_tokens":1.5}`, 400, "max_tokens", ""},
		{"max_tokens zero", compl, `{"prompt":"x","max_tokens":0}`, 400, "max_tokens", ""},
		{"temperature string", chat, `{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, 400, "temperature", ""},
		{"temperature range", chat, `{"messages":[{"role":"user","content":"x"}],"temperature":3}`, 400, "temperature", ""},
		{"top_p range", compl, `{"prompt":"x","top_p":1.5}`, 400, "top_p", ""},
		{"stream string", compl, `{"prompt":"x","stream":"yes"}`, 400, "stream", ""},
		{"messages string", chat, `{"messages":"hello"}`, 400, "messages", ""},
		{"messages missing", chat, `{"model":"fake"}`, 400, "messages", ""},
		{"content number", chat, `{"messages":[{"role":"user","content":5}]}`, 400, "messages[0].content", ""},
		{"image part", chat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "messages[0].content", ""},
		{"unknown role", chat, `{"messages":[{"role":"wizard","content":"x"}]}`, 400, "messages[0].role", ""},
		{"stop number", chat, `{"messages":[{"role":"user","content":"x"}],"stop":5}`, 400, "stop", ""},
		{"too many stops", compl, `{"prompt":"x","stop":["a","b","c","d","e"]}`, 400, "stop", ""},
		{"n=2", chat, `{"messages":[{"role":"user","content":"x"}],"n":2}`, 400, "n", ""},
		{"logprobs", chat, `{"messages":[{"role":"user","content":"x"}],"logprobs":true}`, 400, "logprobs", ""},
		{"prompt missing", compl, `{"max_tokens":3}`, 400, "prompt", ""},
		{"prompt object", compl, `{"prompt":{"a":1}}`, 400, "prompt", ""},
		{"two prompts", compl, `{"prompt":["a","b"]}`, 400, "prompt", ""},
		{"bad token id", compl, `{"prompt":[1,99999]}`, 400, "prompt", ""},
		{"echo", compl, `{"prompt":"x","echo":true}`, 400, "echo", ""},
		{"unknown model", chat, `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "", "model_not_found"},
		{"over-long prompt", compl, long, 400, "prompt", "context_length_exceeded"},
		{"over-long chat", chat, `{"messages":[{"role":"user","content":"` + strings.Repeat("y", 100) + `"}]}`, 400, "messages", "context_length_exceeded"},
		{"body too large", compl, `{"prompt":"` + strings.Repeat("z", 5000) + `"}`, 413, "", "request_too_large"},
		{"unknown endpoint", "/v1/embeddings", `{}`, 404, "", "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := post(t, ts.url+tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var r response
			decode(t, b, &r)
			e := r.Error
			if e == nil || e.Message == "" || e.Type == "" {
				t.Fatalf("not an OpenAI error: %s", b)
			}
			if tt.param != "" && (e.Param == nil || *e.Param != tt.param) {
				t.Errorf("param %v, want %s (%s)", e.Param, tt.param, e.Message)
			}
			if tt.code != "" && (e.Code == nil || *e.Code != tt.code) {
				t.Errorf("code %v, want %s (%s)", e.Code, tt.code, e.Message)
			}
		})
	}
	// Still serving.
	resp, b := post(t, ts.url+chat, `{"messages":[{"role":"user","content":"x"}],"temperature":0,"max_tokens":3}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"content":"abc"`) {
		t.Errorf("after the bad requests: %d %s", resp.StatusCode, b)
	}
}

func TestWrongMethod(t *testing.T) {
	ts := newTestServer(t, 1, 64, server.Config{}, nil)
	resp, b := get(t, ts.url+"/v1/chat/completions")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" || !strings.Contains(string(b), `"error"`) {
		t.Errorf("GET chat: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	resp, _ = post(t, ts.url+"/v1/models", `{}`)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST models: %d", resp.StatusCode)
	}
}
