package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/grammar"
	"github.com/bitnet-go/bitnet/runtime/server"
)

const personSchema = `{"type":"object","properties":{
	"name":{"type":"string","minLength":1,"maxLength":6},
	"age":{"type":"integer","minimum":0,"maximum":120},
	"tags":{"type":"array","items":{"enum":["x","y"]},"minItems":1,"maxItems":2},
	"pet":{"anyOf":[{"$ref":"#/$defs/pet"},{"type":"null"}]}},
	"required":["name","age","tags","pet"],"additionalProperties":false,
	"$defs":{"pet":{"type":"object","properties":{"kind":{"const":"cat"}},"required":["kind"]}}}`

// chatReply is a chat completion as a client reads it, tool calls
// included.
type chatReply struct {
	Choices []struct {
		Message struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Error *apiErr `json:"error"`
}

func mustSchema(t *testing.T, src string) *grammar.Schema {
	t.Helper()
	s, err := grammar.Compile([]byte(src), grammar.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustLooseSchema compiles a schema as a request without strict does.
func mustLooseSchema(t *testing.T, src string) *grammar.Schema {
	t.Helper()
	s, err := grammar.Compile([]byte(src), grammar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResponseFormat(t *testing.T) {
	ts := newTestServer(t, 2, 512, server.Config{}, nil)
	schema := mustSchema(t, personSchema)
	tests := []struct {
		name, format string
		check        func(doc string) error
	}{
		{"json_schema", `{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":` + personSchema + `}}`,
			func(doc string) error { return schema.Validate([]byte(doc)) }},
		{"json_object", `{"type":"json_object"}`, func(doc string) error {
			var m map[string]any
			return json.Unmarshal([]byte(doc), &m)
		}},
	}
	for _, tc := range tests {
		for _, temp := range []string{"0", "1.5"} {
			for seed := range 3 {
				body := fmt.Sprintf(`{"messages":[{"role":"user","content":"abc"}],"max_tokens":200,"temperature":%s,"seed":%d,"response_format":%s}`, temp, seed, tc.format)
				resp, b := post(t, ts.url+"/v1/chat/completions", body)
				var r response
				decode(t, b, &r)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: status %d: %s", tc.name, resp.StatusCode, b)
				}
				doc := r.Choices[0].Message.Content
				if err := tc.check(doc); err != nil || *r.Choices[0].FinishReason != "stop" {
					t.Errorf("%s temp %s seed %d: %q (finish %s): %v", tc.name, temp, seed, doc, *r.Choices[0].FinishReason, err)
				}
				// Streamed, the same seed gives the same document.
				resp, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
				if resp.StatusCode != 200 {
					t.Fatalf("stream status %d", resp.StatusCode)
				}
				if s := readStream(t, strings.NewReader(string(sb))); s.text != doc || s.finish != "stop" {
					t.Errorf("%s: streamed %q (%s), whole %q", tc.name, s.text, s.finish, doc)
				}
			}
		}
	}
	// /v1/completions takes response_format too.
	_, b := post(t, ts.url+"/v1/completions", `{"prompt":"abc","max_tokens":100,"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":`+personSchema+`}}}`)
	var r response
	decode(t, b, &r)
	if err := schema.Validate([]byte(r.Choices[0].Text)); err != nil {
		t.Errorf("completion %q: %v", r.Choices[0].Text, err)
	}
}

// TestResponseFormatBudget: a budget that leaves room for the shortest
// document ends in a valid one; a smaller one ends with "length".
func TestResponseFormatBudget(t *testing.T) {
	ts := newTestServer(t, 1, 512, server.Config{}, nil)
	schema := mustSchema(t, personSchema)
	need := schema.NewMatcher().MinRemaining() + 1 // bytes, one per token here, and the end
	for _, tc := range []struct {
		maxTokens int
		finish    string
	}{{need, "stop"}, {need + 3, "stop"}, {need - 5, "length"}} {
		body := fmt.Sprintf(`{"messages":[{"role":"user","content":"abc"}],"max_tokens":%d,"temperature":1,"seed":5,"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":%s}}}`, tc.maxTokens, personSchema)
		_, b := post(t, ts.url+"/v1/chat/completions", body)
		var r response
		decode(t, b, &r)
		doc, finish := r.Choices[0].Message.Content, *r.Choices[0].FinishReason
		if finish != tc.finish {
			t.Errorf("max_tokens %d: finish %s, want %s (%q)", tc.maxTokens, finish, tc.finish, doc)
		}
		if finish == "stop" {
			if err := schema.Validate([]byte(doc)); err != nil {
				t.Errorf("max_tokens %d: %q: %v", tc.maxTokens, doc, err)
			}
		}
	}
}

func TestStructuredErrors(t *testing.T) {
	ts := newTestServer(t, 1, 256, server.Config{}, nil)
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	tool := `{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"}}}}}`
	tests := []struct {
		body, param, mention string
	}{
		{`{` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"string","pattern":"a+"}}}}`, "response_format.json_schema.schema", "pattern"},
		{`{` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"a":{"oneOf":[]}}}}}}`, "response_format.json_schema.schema", "oneOf"},
		{`{` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`, "response_format.json_schema.schema", "schema"},
		{`{` + msgs + `,"response_format":{"type":"xml"}}`, "response_format.type", "xml"},
		{`{` + msgs + `,"response_format":"json"}`, "response_format", "response_format"},
		{`{` + msgs + `,"tools":[{"type":"retrieval"}]}`, "tools[0].type", "retrieval"},
		{`{` + msgs + `,"tools":[{"type":"function","function":{"name":"a b"}}]}`, "tools[0].function.name", "name"},
		{`{` + msgs + `,"tools":[` + tool + `,` + tool + `]}`, "tools[1].function.name", "twice"},
		{`{` + msgs + `,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"format":"uri"}}}}}]}`, "tools[0].function.parameters", "format"},
		{`{` + msgs + `,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"array"}}}]}`, "tools[0].function.parameters", "object"},
		{`{` + msgs + `,"tools":[` + tool + `],"tool_choice":"always"}`, "tool_choice", "always"},
		{`{` + msgs + `,"tools":[` + tool + `],"tool_choice":{"type":"function","function":{"name":"g"}}}`, "tool_choice", "'g'"},
		{`{` + msgs + `,"tool_choice":"required"}`, "tool_choice", "tools"},
		{`{"messages":[{"role":"tool","content":"42"}]}`, "messages[0].tool_call_id", "tool_call_id"},
		{`{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{oops"}}]}]}`, "messages[0].tool_calls[0].function.arguments", "JSON"},
		{`{"messages":[{"role":"user","content":"x","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "messages[0].tool_calls", "assistant"},
	}
	for _, tc := range tests {
		resp, b := post(t, ts.url+"/v1/chat/completions", tc.body)
		var r response
		decode(t, b, &r)
		if resp.StatusCode != 400 || r.Error == nil || r.Error.Param == nil || *r.Error.Param != tc.param || !strings.Contains(r.Error.Message, tc.mention) {
			t.Errorf("%s: status %d, body %s; want 400 with param %s mentioning %q", tc.body, resp.StatusCode, b, tc.param, tc.mention)
		}
	}
}

const weatherTool = `{"type":"function","function":{"name":"get_weather","description":"Weather in a city",
	"parameters":{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":10},"unit":{"enum":["c","f"]}},
	"required":["city","unit"],"additionalProperties":false},"strict":true}}`
const weatherParams = `{"type":"object","properties":{"city":{"type":"string","minLength":1,"maxLength":10},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}`
const timeTool = `{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":"integer","minimum":-12,"maximum":14}},"required":["zone"]}}}`
const timeParams = `{"type":"object","properties":{"zone":{"type":"integer","minimum":-12,"maximum":14}},"required":["zone"]}`

func TestToolCalls(t *testing.T) {
	ts := newTestServer(t, 2, 1024, server.Config{}, nil)
	params := map[string]*grammar.Schema{"get_weather": mustSchema(t, weatherParams), "get_time": mustLooseSchema(t, timeParams)}
	tests := []struct {
		choice   string
		parallel string
		only     string // the function that must be called, if one is named
	}{
		{`"required"`, "true", ""},
		{`"required"`, "false", ""},
		{`{"type":"function","function":{"name":"get_time"}}`, "true", "get_time"},
	}
	for _, tc := range tests {
		for seed := range 4 {
			body := fmt.Sprintf(`{"messages":[{"role":"user","content":"weather?"}],"max_tokens":300,"temperature":1.2,"seed":%d,
				"tools":[%s,%s],"tool_choice":%s,"parallel_tool_calls":%s}`, seed, weatherTool, timeTool, tc.choice, tc.parallel)
			resp, b := post(t, ts.url+"/v1/chat/completions", body)
			var r chatReply
			decode(t, b, &r)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			c := r.Choices[0]
			if c.FinishReason != "tool_calls" || c.Message.Content != nil || len(c.Message.ToolCalls) == 0 {
				t.Fatalf("%s: not a tool call reply: %s", tc.choice, b)
			}
			if tc.parallel == "false" && len(c.Message.ToolCalls) != 1 {
				t.Errorf("parallel_tool_calls false: %d calls", len(c.Message.ToolCalls))
			}
			ids := map[string]bool{}
			for _, call := range c.Message.ToolCalls {
				p := params[call.Function.Name]
				if p == nil || tc.only != "" && call.Function.Name != tc.only {
					t.Fatalf("called %q", call.Function.Name)
				}
				if err := p.Validate([]byte(call.Function.Arguments)); err != nil {
					t.Errorf("%s(%s): %v", call.Function.Name, call.Function.Arguments, err)
				}
				if call.Type != "function" || !strings.HasPrefix(call.ID, "call_") || ids[call.ID] {
					t.Errorf("call id %q type %q", call.ID, call.Type)
				}
				ids[call.ID] = true
			}
			// The stream carries the same calls as delta.tool_calls.
			_, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
			calls, finish := assembleToolCalls(t, string(sb))
			if finish != "tool_calls" || len(calls) != len(c.Message.ToolCalls) {
				t.Fatalf("streamed %d calls (%s), whole %d", len(calls), finish, len(c.Message.ToolCalls))
			}
			for i, call := range calls {
				want := c.Message.ToolCalls[i].Function
				if call.name != want.Name || call.args != want.Arguments {
					t.Errorf("streamed call %d: %s(%s), whole %s(%s)", i, call.name, call.args, want.Name, want.Arguments)
				}
			}
		}
	}
}

type streamedCall struct{ id, name, args string }

// chatChunkEvent is a chat stream event as the tests read it.
type chatChunkEvent struct {
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content   *string `json:"content"`
			ToolCalls []struct {
				Index    *int   `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		Logprobs *struct {
			Content []struct{ Token string } `json:"content"`
		} `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

// assembleToolCalls rebuilds tool calls from a stream's delta.tool_calls
// as client libraries do: by index, the first chunk naming the call,
// arguments concatenated.
func assembleToolCalls(t *testing.T, body string) ([]streamedCall, string) {
	var calls []streamedCall
	finish := ""
	for _, d := range sseData(t, strings.NewReader(body)) {
		if d == "[DONE]" {
			continue
		}
		var ev chatChunkEvent
		decode(t, []byte(d), &ev)
		for _, c := range ev.Choices {
			if c.Delta.Content != nil && *c.Delta.Content != "" {
				t.Errorf("content %q in a tool call stream", *c.Delta.Content)
			}
			for _, tc := range c.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatalf("a tool call delta without index: %s", d)
				}
				for len(calls) <= *tc.Index {
					calls = append(calls, streamedCall{})
				}
				cl := &calls[*tc.Index]
				if tc.ID != "" {
					cl.id, cl.name = tc.ID, tc.Function.Name
				}
				cl.args += tc.Function.Arguments
			}
			if c.FinishReason != nil {
				finish = *c.FinishReason
			}
		}
	}
	return calls, finish
}

func TestToolConversation(t *testing.T) {
	ts := newTestServer(t, 1, 1024, server.Config{}, nil)
	body := `{"messages":[{"role":"user","content":"weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"unit\":\"c\"}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"21 C, sunny"}],
		"tools":[` + weatherTool + `],"max_tokens":20,"temperature":0}`
	for _, choice := range []string{`"auto"`, `"none"`} {
		resp, b := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"tool_choice":`+choice+`,"max_tokens"`, 1))
		var r chatReply
		decode(t, b, &r)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		c := r.Choices[0]
		// The fake model never starts with '[': auto answers in text.
		if c.Message.Content == nil || len(c.Message.ToolCalls) != 0 || c.FinishReason == "tool_calls" {
			t.Errorf("tool_choice %s: %s", choice, b)
		}
	}
}

// TestStructuredConcurrent: requests sharing a (cached) schema decode side
// by side, each with its own constraint; run under -race this also checks
// that compiled schemas are only read.
func TestStructuredConcurrent(t *testing.T) {
	ts := newTestServer(t, 4, 1024, server.Config{}, nil)
	schema := mustSchema(t, personSchema)
	weather := mustSchema(t, weatherParams)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			if i%2 == 0 {
				body := fmt.Sprintf(`{"messages":[{"role":"user","content":"p%d"}],"max_tokens":200,"temperature":1,"seed":%d,
					"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,"schema":%s}}}`, i, i, personSchema)
				_, b := post(t, ts.url+"/v1/chat/completions", body)
				var r response
				if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) == 0 {
					errs <- fmt.Errorf("%s", b)
					return
				}
				errs <- schema.Validate([]byte(r.Choices[0].Message.Content))
				return
			}
			body := fmt.Sprintf(`{"messages":[{"role":"user","content":"w%d"}],"max_tokens":200,"temperature":1,"seed":%d,
				"tools":[%s],"tool_choice":"required"}`, i, i, weatherTool)
			_, b := post(t, ts.url+"/v1/chat/completions", body)
			var r chatReply
			if err := json.Unmarshal(b, &r); err != nil || len(r.Choices) == 0 || len(r.Choices[0].Message.ToolCalls) == 0 {
				errs <- fmt.Errorf("%s", b)
				return
			}
			errs <- weather.Validate([]byte(r.Choices[0].Message.ToolCalls[0].Function.Arguments))
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
