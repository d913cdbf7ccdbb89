package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

const alphabet = "abcdefghijklmnopqrstuvwxyz"

// chatPromptLen is the token count of the fake template for one user turn.
func chatPromptLen(content string) int {
	return 1 + len("user: "+content+"\n") + len("assistant: ")
}

func TestChatCompletion(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	tests := []struct {
		name, extra string
		want        string
		finish      string
		completion  int
	}{
		{"until EOG", ``, alphabet, "stop", 27}, // 26 letters and EOS
		{"max_tokens", `,"max_tokens":5`, "abcde", "length", 5},
		{"max_completion_tokens", `,"max_completion_tokens":3`, "abc", "length", 3},
		{"stop string", `,"stop":"fgh"`, "abcde", "stop", 8},
		{"stop array, earliest wins", `,"stop":["xyz","cd"]`, "ab", "stop", 4},
		{"stop after the end", `,"stop":["zz"]`, alphabet, "stop", 27},
		{"null fields", `,"stop":null,"seed":null,"n":1,"top_p":1`, alphabet, "stop", 27},
		{"content parts", ``, alphabet, "stop", 27},
		// Structured output and tools that ask for free text (structured_test.go
		// has the rest).
		{"free-text structured fields", `,"response_format":{"type":"text"},"tools":[],"tool_choice":"none"`, alphabet, "stop", 27},
		{"user", `,"user":"u-1"`, alphabet, "stop", 27},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := `[{"role":"user","content":"hi"}]`
			if tt.name == "content parts" {
				msgs = `[{"role":"user","content":[{"type":"text","text":"h"},{"type":"text","text":"i"}]}]`
			}
			body := `{"model":"fake","messages":` + msgs + `,"temperature":0` + tt.extra + `}`
			resp, b := post(t, ts.url+"/v1/chat/completions", body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var r response
			decode(t, b, &r)
			if r.Object != "chat.completion" || !strings.HasPrefix(r.ID, "chatcmpl-") || r.Model != "fake" || r.Created == 0 {
				t.Errorf("envelope: %+v", r)
			}
			if len(r.Choices) != 1 {
				t.Fatalf("choices: %s", b)
			}
			c := r.Choices[0]
			if c.Message.Role != "assistant" || c.Message.Content != tt.want {
				t.Errorf("message = %+v, want %q", c.Message, tt.want)
			}
			if c.FinishReason == nil || *c.FinishReason != tt.finish {
				t.Errorf("finish_reason = %v, want %s", c.FinishReason, tt.finish)
			}
			wantUsage := usage{chatPromptLen("hi"), tt.completion, chatPromptLen("hi") + tt.completion}
			if r.Usage == nil || *r.Usage != wantUsage {
				t.Errorf("usage = %+v, want %+v", r.Usage, wantUsage)
			}
		})
	}
}

func TestChatStream(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	for _, includeUsage := range []bool{false, true} {
		t.Run(fmt.Sprint("include_usage=", includeUsage), func(t *testing.T) {
			body := fmt.Sprintf(`{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],
				"temperature":0,"stream":true,"stream_options":{"include_usage":%v}}`, includeUsage)
			resp, b := post(t, ts.url+"/v1/chat/completions", body)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			s := readStream(t, strings.NewReader(string(b)))
			if s.text != alphabet || s.finish != "stop" || !s.done || s.err != nil {
				t.Errorf("stream: text %q finish %q done %v err %v", s.text, s.finish, s.done, s.err)
			}
			first := s.events[0]
			if first.Object != "chat.completion.chunk" || first.Choices[0].Delta.Role != "assistant" {
				t.Errorf("first event should announce the assistant role: %+v", first)
			}
			for _, ev := range s.events {
				if ev.ID != first.ID {
					t.Errorf("event ids differ: %s vs %s", ev.ID, first.ID)
				}
			}
			if includeUsage {
				last := s.events[len(s.events)-1]
				if len(last.Choices) != 0 || last.Usage == nil || last.Usage.Completion != 27 {
					t.Errorf("usage event: %+v", last)
				}
			} else if s.usage != nil {
				t.Errorf("usage sent without include_usage: %+v", s.usage)
			}
		})
	}
}

func TestCompletions(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	tests := []struct {
		name, prompt, extra string
		want, finish        string
		promptTokens        int
	}{
		{"string", `"k"`, ``, "lmnopqrstuvwxyz", "stop", 2},
		{"one-string array", `["xy"]`, ``, "z", "stop", 3},
		{"token ids", `[257, 107]`, ``, "lmnopqrstuvwxyz", "stop", 2},
		{"max_tokens", `"a"`, `,"max_tokens":4`, "bcde", "length", 2},
		{"empty prompt is BOS", `""`, `,"max_tokens":2`, "ab", "length", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				body := fmt.Sprintf(`{"prompt":%s,"temperature":0,"stream":%v%s}`, tt.prompt, stream, tt.extra)
				resp, b := post(t, ts.url+"/v1/completions", body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("stream=%v: status %d: %s", stream, resp.StatusCode, b)
				}
				if stream {
					s := readStream(t, strings.NewReader(string(b)))
					if s.text != tt.want || s.finish != tt.finish || !s.done {
						t.Errorf("stream: %q %q done=%v", s.text, s.finish, s.done)
					}
					if s.events[0].Object != "text_completion" {
						t.Errorf("object %q", s.events[0].Object)
					}
					continue
				}
				var r response
				decode(t, b, &r)
				if r.Object != "text_completion" || !strings.HasPrefix(r.ID, "cmpl-") {
					t.Errorf("envelope %+v", r)
				}
				if got := r.Choices[0]; got.Text != tt.want || got.FinishReason == nil || *got.FinishReason != tt.finish {
					t.Errorf("choice %+v, want %q/%s", got, tt.want, tt.finish)
				}
				if r.Usage.Prompt != tt.promptTokens {
					t.Errorf("prompt_tokens %d, want %d", r.Usage.Prompt, tt.promptTokens)
				}
			}
		})
	}
}

// A prompt near the end of the context is cut at the context length.
func TestContextEndIsLength(t *testing.T) {
	ts := newTestServer(t, 1, 16, server.Config{}, func(e *fakeengine.Engine) { e.Endless = true })
	resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"0123456789","temperature":0}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var r response
	decode(t, b, &r)
	// 11 prompt tokens leave 5 positions.
	if r.Choices[0].Text != "abcde" || *r.Choices[0].FinishReason != "length" || r.Usage.Total != 16 {
		t.Errorf("got %s", b)
	}
}

func TestSeedReproduces(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, func(e *fakeengine.Engine) { e.Endless = true })
	run := func(seed int) string {
		body := fmt.Sprintf(`{"prompt":"a","temperature":2,"top_p":0.95,"seed":%d,"max_tokens":40}`, seed)
		resp, b := post(t, ts.url+"/v1/completions", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		var r response
		decode(t, b, &r)
		return r.Choices[0].Text
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed, different text: %q vs %q", a, b)
	}
	if a == c {
		t.Errorf("different seeds gave the same 40 tokens at temperature 2: %q", a)
	}
}

func TestModelsAndHealth(t *testing.T) {
	ts := newTestServer(t, 3, 64, server.Config{ModelID: "tiny"}, nil)
	resp, b := get(t, ts.url+"/v1/models")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"data":[{"id":"tiny","object":"model"`) {
		t.Errorf("models: %d %s", resp.StatusCode, b)
	}
	resp, b = get(t, ts.url+"/v1/models/tiny")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"id":"tiny"`) {
		t.Errorf("model: %d %s", resp.StatusCode, b)
	}
	if resp, _ = get(t, ts.url+"/v1/models/other"); resp.StatusCode != 404 {
		t.Errorf("unknown model: %d", resp.StatusCode)
	}
	resp, b = get(t, ts.url+"/health")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"status":"ok"`) || !strings.Contains(string(b), `"slots_total":3`) {
		t.Errorf("health: %d %s", resp.StatusCode, b)
	}
}

func TestAPIKey(t *testing.T) {
	ts := newTestServer(t, 1, 64, server.Config{APIKey: "sekret"}, nil)
	chat := `{"messages":[{"role":"user","content":"x"}],"max_tokens":1}`
	tests := []struct {
		name   string
		header []string
		want   int
	}{
		{"none", nil, 401},
		{"wrong", []string{"Authorization", "Bearer nope"}, 401},
		{"not bearer", []string{"Authorization", "Basic sekret"}, 401},
		{"right", []string{"Authorization", "Bearer sekret"}, 200},
		{"lowercase scheme", []string{"Authorization", "bearer sekret"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := post(t, ts.url+"/v1/chat/completions", chat, tt.header...)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, b)
			}
			if tt.want == 401 {
				var r response
				decode(t, b, &r)
				if r.Error == nil || r.Error.Code == nil || *r.Error.Code != "invalid_api_key" {
					t.Errorf("error body %s", b)
				}
			}
		})
	}
	if resp, _ := get(t, ts.url+"/health"); resp.StatusCode != 200 {
		t.Errorf("/health needs no key, got %d", resp.StatusCode)
	}
	if resp, _ := get(t, ts.url+"/v1/models"); resp.StatusCode != 401 {
		t.Errorf("/v1/models without key: %d", resp.StatusCode)
	}
}
