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
		{"n=0", chat, `{"messages":[{"role":"user","content":"x"}],"n":0}`, 400, "n", ""},
		{"n too large", compl, `{"prompt":"x","n":17}`, 400, "n", ""},
		{"top_logprobs without logprobs", chat, `{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}`, 400, "top_logprobs", ""},
		{"top_logprobs range", chat, `{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}`, 400, "top_logprobs", ""},
		{"completion logprobs range", compl, `{"prompt":"x","logprobs":6}`, 400, "logprobs", ""},
		{"logprobs wrong type", chat, `{"messages":[{"role":"user","content":"x"}],"logprobs":3}`, 400, "logprobs", ""},
		{"unknown field", chat, `{"messages":[{"role":"user","content":"x"}],"mirostat":2}`, 400, "mirostat", ""},
		{"tools is no stream option", chat, `{"messages":[{"role":"user","content":"x"}],"stream_options":{"tools":[]}}`, 400, "stream_options.tools", ""},
		{"unknown stream option", compl, `{"prompt":"x","stream":true,"stream_options":{"include_usage":true,"chunk_size":3}}`, 400, "stream_options.chunk_size", ""},
		{"unknown fields, first in order", compl, `{"prompt":"x","zeta":1,"best_guess":true}`, 400, "best_guess", ""},
		{"logit_bias not an object", chat, `{"messages":[{"role":"user","content":"x"}],"logit_bias":[1,2]}`, 400, "logit_bias", ""},
		{"logit_bias key not an id", chat, `{"messages":[{"role":"user","content":"x"}],"logit_bias":{"Paris":5}}`, 400, "logit_bias", ""},
		{"logit_bias id outside the vocabulary", compl, `{"prompt":"x","logit_bias":{"99999":5}}`, 400, "logit_bias", ""},
		{"logit_bias out of range", compl, `{"prompt":"x","logit_bias":{"97":101}}`, 400, "logit_bias", ""},
		{"logit_bias not a number", compl, `{"prompt":"x","logit_bias":{"97":"up"}}`, 400, "logit_bias", ""},
		{"frequency_penalty range", chat, `{"messages":[{"role":"user","content":"x"}],"frequency_penalty":2.5}`, 400, "frequency_penalty", ""},
		{"presence_penalty range", compl, `{"prompt":"x","presence_penalty":-3}`, 400, "presence_penalty", ""},
		{"repeat_penalty negative", compl, `{"prompt":"x","repeat_penalty":-1}`, 400, "repeat_penalty", ""},
		{"repeat_last_n", compl, `{"prompt":"x","repeat_last_n":-2}`, 400, "repeat_last_n", ""},
		{"top_k negative", chat, `{"messages":[{"role":"user","content":"x"}],"top_k":-1}`, 400, "top_k", ""},
		{"top_k float", chat, `{"messages":[{"role":"user","content":"x"}],"top_k":1.5}`, 400, "top_k", ""},
		{"min_p range", compl, `{"prompt":"x","min_p":1.5}`, 400, "min_p", ""},
		{"max_completion_tokens zero", compl, `{"prompt":"x","max_completion_tokens":0}`, 400, "max_completion_tokens", ""},
		{"prompt missing", compl, `{"max_tokens":3}`, 400, "prompt", ""},
		{"prompt object", compl, `{"prompt":{"a":1}}`, 400, "prompt", ""},
		{"two prompts", compl, `{"prompt":["a","b"]}`, 400, "prompt", ""},
		{"bad token id", compl, `{"prompt":[1,99999]}`, 400, "prompt", ""},
		{"echo", compl, `{"prompt":"x","echo":true}`, 400, "echo", ""},
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
