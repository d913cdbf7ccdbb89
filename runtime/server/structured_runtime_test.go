package server_test

import (
	"fmt"
	"testing"
)

// TestRuntimeEngineStructured runs response_format and a forced tool call
// on a real model with random weights and the built-in byte-level BPE
// tokenizer (multi-byte pieces, padding rows past the tokenizer): only the
// constraint can make its replies valid.
func TestRuntimeEngineStructured(t *testing.T) {
	l := tinyLayout
	l.Hidden, l.FFN, l.Layers, l.Heads, l.Context = 128, 256, 1, 2, 1024
	l.KVHeads = 1
	m := loadDummy(t, l, 4)
	url, _, _ := serveModel(t, m, 2)

	schema := mustSchema(t, personSchema)
	weather := mustSchema(t, weatherParams)
	for _, temp := range []string{"0", "1"} {
		body := fmt.Sprintf(`{"messages":[{"role":"user","content":"Describe a person."}],"temperature":%s,"seed":3,"max_tokens":120,
			"response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":%s}}}`, temp, personSchema)
		resp, b := post(t, url+"/v1/chat/completions", body)
		var r response
		decode(t, b, &r)
		if resp.StatusCode != 200 || *r.Choices[0].FinishReason != "stop" {
			t.Fatalf("temperature %s: %d %s", temp, resp.StatusCode, b)
		}
		if err := schema.Validate([]byte(r.Choices[0].Message.Content)); err != nil {
			t.Errorf("temperature %s: %q: %v", temp, r.Choices[0].Message.Content, err)
		}

		body = fmt.Sprintf(`{"messages":[{"role":"user","content":"Weather?"}],"temperature":%s,"seed":3,"max_tokens":120,
			"tools":[%s],"tool_choice":"required"}`, temp, weatherTool)
		resp, b = post(t, url+"/v1/chat/completions", body)
		var c chatReply
		decode(t, b, &c)
		if resp.StatusCode != 200 || c.Choices[0].FinishReason != "tool_calls" || len(c.Choices[0].Message.ToolCalls) == 0 {
			t.Fatalf("temperature %s: tool call: %d %s", temp, resp.StatusCode, b)
		}
		for _, call := range c.Choices[0].Message.ToolCalls {
			if err := weather.Validate([]byte(call.Function.Arguments)); call.Function.Name != "get_weather" || err != nil {
				t.Errorf("temperature %s: %s(%s): %v", temp, call.Function.Name, call.Function.Arguments, err)
			}
		}
	}
}
