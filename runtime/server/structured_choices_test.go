package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
)

// TestStructuredChoices: with n > 1 every choice is held to the request's
// grammar by a constraint of its own, whole and streamed, together with
// logprobs, logit_bias and top_k (the mask comes after the bias and before
// the filters, so top_k picks among the allowed tokens).
func TestStructuredChoices(t *testing.T) {
	ts := newTestServer(t, 4, 1024, server.Config{}, nil)
	schema := mustSchema(t, personSchema)
	format := `{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":` + personSchema + `}}`
	for _, extra := range []string{``, `,"logprobs":true,"top_logprobs":2,"top_k":1,"logit_bias":{"122":100}`} {
		body := fmt.Sprintf(`{"messages":[{"role":"user","content":"abc"}],"n":3,"max_tokens":200,"temperature":1,"seed":7,"response_format":%s%s}`, format, extra)
		resp, b := post(t, ts.url+"/v1/chat/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", extra, resp.StatusCode, b)
		}
		var r struct {
			Choices []struct {
				Index   int `json:"index"`
				Message struct {
					Content string `json:"content"`
				} `json:"message"`
				Logprobs *struct {
					Content []struct {
						Token string `json:"token"`
					} `json:"content"`
				} `json:"logprobs"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
		}
		decode(t, b, &r)
		if len(r.Choices) != 3 {
			t.Fatalf("choices: %s", b)
		}
		whole := map[int]string{}
		for _, c := range r.Choices {
			whole[c.Index] = c.Message.Content
			if err := schema.Validate([]byte(c.Message.Content)); err != nil || c.FinishReason != "stop" {
				t.Errorf("%s: choice %d %q (%s): %v", extra, c.Index, c.Message.Content, c.FinishReason, err)
			}
			if extra != "" {
				if c.Logprobs == nil {
					t.Fatalf("no logprobs: %s", b)
				}
				var text strings.Builder
				for _, e := range c.Logprobs.Content {
					text.WriteString(e.Token)
				}
				if text.String() != c.Message.Content {
					t.Errorf("choice %d: logprobs spell %q, content %q", c.Index, text.String(), c.Message.Content)
				}
			}
		}
		// Streamed, the same seeds give the same documents, choice by choice.
		resp, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
		if resp.StatusCode != 200 {
			t.Fatalf("stream status %d: %s", resp.StatusCode, sb)
		}
		s := readStream(t, strings.NewReader(string(sb)))
		text := map[int]string{}
		for _, ev := range s.events {
			for _, c := range ev.Choices {
				if c.Delta.Content != nil {
					text[c.Index] += *c.Delta.Content
				}
			}
		}
		for i := range 3 {
			if text[i] != whole[i] {
				t.Errorf("%s: streamed choice %d %q, whole %q", extra, i, text[i], whole[i])
			}
		}
	}
}

// TestToolCallChoices: n > 1 with a forced tool call, whole and streamed.
func TestToolCallChoices(t *testing.T) {
	ts := newTestServer(t, 2, 1024, server.Config{}, nil)
	weather := mustSchema(t, weatherParams)
	body := `{"messages":[{"role":"user","content":"weather?"}],"n":2,"max_tokens":300,"temperature":1.2,"seed":3,
		"tools":[` + weatherTool + `],"tool_choice":"required"}`
	resp, b := post(t, ts.url+"/v1/chat/completions", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var r chatReply
	decode(t, b, &r)
	if len(r.Choices) != 2 {
		t.Fatalf("choices: %s", b)
	}
	for i, c := range r.Choices {
		if c.FinishReason != "tool_calls" || c.Message.Content != nil || len(c.Message.ToolCalls) == 0 {
			t.Fatalf("choice %d is not a tool call reply: %s", i, b)
		}
		for _, call := range c.Message.ToolCalls {
			if err := weather.Validate([]byte(call.Function.Arguments)); err != nil {
				t.Errorf("choice %d: %s: %v", i, call.Function.Arguments, err)
			}
		}
	}
	// Streamed: each choice's calls, assembled by choice and call index.
	_, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
	type call struct{ name, args string }
	calls := map[int][]call{}
	finish := map[int]string{}
	for _, d := range sseData(t, strings.NewReader(string(sb))) {
		if d == "[DONE]" {
			continue
		}
		var ev chatChunkEvent
		decode(t, []byte(d), &ev)
		for _, c := range ev.Choices {
			for _, tc := range c.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatalf("a tool call delta without index: %s", d)
				}
				for len(calls[c.Index]) <= *tc.Index {
					calls[c.Index] = append(calls[c.Index], call{})
				}
				cl := &calls[c.Index][*tc.Index]
				if tc.Function.Name != "" {
					cl.name = tc.Function.Name
				}
				cl.args += tc.Function.Arguments
			}
			if c.FinishReason != nil {
				finish[c.Index] = *c.FinishReason
			}
		}
	}
	for i, c := range r.Choices {
		if finish[i] != "tool_calls" || len(calls[i]) != len(c.Message.ToolCalls) {
			t.Fatalf("choice %d: streamed %d calls (%s), whole %d", i, len(calls[i]), finish[i], len(c.Message.ToolCalls))
		}
		for k, cl := range calls[i] {
			want := c.Message.ToolCalls[k].Function
			if cl.name != want.Name || cl.args != want.Arguments {
				t.Errorf("choice %d call %d: streamed %s(%s), whole %s(%s)", i, k, cl.name, cl.args, want.Name, want.Arguments)
			}
		}
	}
}

// TestStructuredFieldErrors: the combinations and message fields that are
// refused, each with a 400 naming the field.
func TestStructuredFieldErrors(t *testing.T) {
	ts := newTestServer(t, 1, 1024, server.Config{}, nil)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct{ body, param string }{
		{`{"messages":[{"role":"user","content":"hi","name":"bob"}]}`, "messages[0].name"},
		{`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"x","refusal":null}]}`, "messages[1].refusal"},
		{`{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}","extra":1}}]}]}`, "messages[0].tool_calls[0].function.extra"},
		{`{` + msgs + `,"parallel_tool_calls":true}`, "parallel_tool_calls"},
	}
	for _, tc := range tests {
		resp, b := post(t, ts.url+"/v1/chat/completions", tc.body)
		var r response
		decode(t, b, &r)
		if resp.StatusCode != 400 || r.Error == nil || r.Error.Param == nil || *r.Error.Param != tc.param {
			t.Errorf("%s: status %d, body %s; want 400 with param %s", tc.body, resp.StatusCode, b, tc.param)
		}
	}
}

// TestToolCallLogprobs: logprobs come with tools as OpenAI serves them: a
// text reply carries them for its content, whole and streamed (including
// the tokens held back while the first text decided between text and a
// call), and a call reply, which has no content, carries none.
func TestToolCallLogprobs(t *testing.T) {
	ts := newTestServer(t, 1, 1024, server.Config{}, nil)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tests := []struct {
		name, extra string
		calls       bool
	}{
		{"required", `"tool_choice":"required"`, true},
		{"auto, '[' forced", `"tool_choice":"auto","logit_bias":{"91":100}`, true},
		{"auto, '[' banned", `"tool_choice":"auto","logit_bias":{"91":-100}`, false},
		{"none", `"tool_choice":"none"`, false},
	}
	for _, tc := range tests {
		body := `{` + msgs + `,"tools":[` + weatherTool + `],` + tc.extra + `,"logprobs":true,"top_logprobs":2,"max_tokens":40,"temperature":0}`
		resp, b := post(t, ts.url+"/v1/chat/completions", body)
		var r struct {
			Choices []struct {
				Message struct {
					Content   *string           `json:"content"`
					ToolCalls []json.RawMessage `json:"tool_calls"`
				} `json:"message"`
				Logprobs *struct {
					Content []struct{ Token string } `json:"content"`
				} `json:"logprobs"`
			} `json:"choices"`
		}
		decode(t, b, &r)
		if resp.StatusCode != 200 || len(r.Choices) != 1 {
			t.Fatalf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
		c := r.Choices[0]
		if tc.calls {
			if len(c.Message.ToolCalls) == 0 || c.Logprobs != nil {
				t.Errorf("%s: want calls and null logprobs: %s", tc.name, b)
			}
		} else {
			var spelled strings.Builder
			if c.Logprobs != nil {
				for _, e := range c.Logprobs.Content {
					spelled.WriteString(e.Token)
				}
			}
			if c.Message.Content == nil || *c.Message.Content == "" || c.Logprobs == nil || spelled.String() != *c.Message.Content {
				t.Errorf("%s: logprobs spell %q for content %v: %s", tc.name, spelled.String(), c.Message.Content, b)
			}
		}

		// Streamed: the same reply, logprobs on content deltas only.
		_, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
		var content, spelled strings.Builder
		for _, d := range sseData(t, strings.NewReader(string(sb))) {
			if d == "[DONE]" {
				continue
			}
			var ev chatChunkEvent
			decode(t, []byte(d), &ev)
			for _, ch := range ev.Choices {
				if ch.Delta.Content != nil {
					content.WriteString(*ch.Delta.Content)
				}
				if ch.Logprobs != nil {
					for _, e := range ch.Logprobs.Content {
						spelled.WriteString(e.Token)
					}
				}
			}
		}
		switch {
		case tc.calls && (content.Len() > 0 || spelled.Len() > 0):
			t.Errorf("%s, streamed: calls with content %q, logprobs %q", tc.name, content.String(), spelled.String())
		case !tc.calls && (c.Message.Content == nil || content.String() != *c.Message.Content || spelled.String() != content.String()):
			t.Errorf("%s, streamed: content %q, logprobs spell %q; whole reply %v", tc.name, content.String(), spelled.String(), c.Message.Content)
		}
	}
}
