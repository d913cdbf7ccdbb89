package server

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/grammar"
)

// TestCallScannerChunks cuts call replies at every byte and checks that
// the streamed calls always come out the same as in one piece.
func TestCallScannerChunks(t *testing.T) {
	for _, text := range []string{
		`[{"name":"f","arguments":{"a":"x}]\"{","b":[1,{"c":[]}]}}]`,
		"\n [ {\"name\" : \"get_weather\" ,\t\"arguments\":\n{ \"city\":\"Paris\" } } , {\"name\":\"now\",\"arguments\":{}}]",
	} {
		var whole callScanner
		whole.feed(text)
		var want []struct {
			Name      string
			Arguments json.RawMessage
		}
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatal(err)
		}
		if len(whole.calls) != len(want) {
			t.Fatalf("%s: %d calls, want %d", text, len(whole.calls), len(want))
		}
		for i, c := range whole.calls {
			if c.Function.Name != want[i].Name || c.Function.Arguments != string(want[i].Arguments) {
				t.Errorf("call %d: %s(%s), want %s(%s)", i, c.Function.Name, c.Function.Arguments, want[i].Name, want[i].Arguments)
			}
		}
		for cut := 0; cut <= len(text); cut++ {
			for cut2 := cut; cut2 <= len(text); cut2 += 3 {
				var sc callScanner
				args := map[int]string{}
				names := map[int]string{}
				for _, part := range []string{text[:cut], text[cut:cut2], text[cut2:]} {
					started, a := sc.feed(part)
					for _, i := range started {
						names[i] = sc.calls[i].Function.Name
						if _, early := args[i]; early {
							t.Fatalf("arguments of call %d before its name", i)
						}
					}
					for i, s := range a {
						args[i] += s
					}
				}
				for i, c := range whole.calls {
					if names[i] != c.Function.Name || args[i] != c.Function.Arguments {
						t.Fatalf("cut at %d,%d: call %d %s(%s), want %s(%s)", cut, cut2, i, names[i], args[i], c.Function.Name, c.Function.Arguments)
					}
				}
			}
		}
	}
}

// TestLazyConstraint: under tool_choice auto the first token with text
// decides between a call (held to the grammar) and free text.
func TestLazyConstraint(t *testing.T) {
	pieces := [][]byte{[]byte("["), []byte("[x"), []byte("a"), []byte("{"), nil, []byte(`{"name":"f","arguments":{}}`), []byte("]"), nil}
	const eos, ctrl = 7, 4
	v := grammar.NewVocab(pieces, []int32{eos})
	params, err := grammar.Compile([]byte(`{"type":"object","properties":{}}`), grammar.Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	calls := grammar.Calls([]grammar.Function{{Name: "f", Parameters: params}}, true)
	allowed := func(c *constraint) []bool {
		logits := make([]float32, len(pieces))
		c.apply(logits, 100)
		out := make([]bool, len(logits))
		for i, l := range logits {
			out[i] = !math.IsInf(float64(l), -1)
		}
		return out
	}
	c := &constraint{m: calls.NewMatcher(), vocab: v, pieces: pieces, lazy: true}
	a := allowed(c)
	if !a[0] || a[1] || !a[2] || !a[3] || !a[ctrl] || !a[eos] {
		t.Fatalf("first token: allowed %v", a)
	}
	if !c.accept(ctrl) || !c.lazy {
		t.Fatal("a control token decided the reply")
	}
	if !c.accept(0) {
		t.Fatal("'[' rejected")
	}
	a = allowed(c)
	if a[0] || a[1] || a[2] || !a[3] || !a[5] || a[eos] {
		t.Fatalf("inside a call: allowed %v", a)
	}
	if !c.accept(5) || !c.accept(6) || !allowed(c)[eos] {
		t.Fatal("a whole call does not end")
	}

	text := &constraint{m: calls.NewMatcher(), vocab: v, pieces: pieces, lazy: true}
	if !text.accept(2) || !text.off {
		t.Fatal("text did not turn the grammar off")
	}
	if a := allowed(text); !a[1] || !a[eos] {
		t.Fatalf("free text: allowed %v", a)
	}
}

// FuzzCallScanner: any text, cut anywhere, scans without panicking and
// gives the same calls as in one piece.
func FuzzCallScanner(f *testing.F) {
	f.Add(`[{"name":"f","arguments":{"a":"x}]\"{","b":[1,{"c":[]}]}}]`, 7)
	f.Add("[{\"name\":\"a\",\"arguments\":{}},{\"name\":\"b\",\"arguments\":{\"k\":[\"]\"]}}]", 30)
	f.Add(`{"x":[{]]}}"\`, 3)
	f.Fuzz(func(t *testing.T, text string, cut int) {
		var whole callScanner
		whole.feed(text)
		if cut < 0 {
			cut = -cut
		}
		if len(text) > 0 {
			cut %= len(text) + 1
		} else {
			cut = 0
		}
		var parts callScanner
		args := map[int]string{}
		for _, p := range []string{text[:cut], text[cut:]} {
			_, a := parts.feed(p)
			for i, s := range a {
				args[i] += s
			}
		}
		if len(parts.calls) != len(whole.calls) {
			t.Fatalf("%d calls cut at %d, %d whole", len(parts.calls), cut, len(whole.calls))
		}
		for i, c := range whole.calls {
			if parts.calls[i].Function != c.Function || args[i] != c.Function.Arguments {
				t.Fatalf("call %d cut at %d: %+v (streamed %q), whole %+v", i, cut, parts.calls[i].Function, args[i], c.Function)
			}
		}
	})
}

// FuzzParseTools: any tools, tool_choice and response_format are either
// refused with a 400 naming a parameter or give a grammar whose shortest
// reply exists.
func FuzzParseTools(f *testing.F) {
	f.Add(`[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"integer","maximum":3}},"required":["a"]}}}]`, `"required"`, `{"type":"json_object"}`)
	f.Add(`[{"type":"function","function":{"name":"g"}}]`, `{"type":"function","function":{"name":"g"}}`, `null`)
	f.Add(`[]`, `"none"`, `{"type":"json_schema","json_schema":{"name":"x","schema":{"anyOf":[{"$ref":"#/$defs/a"}],"$defs":{"a":{"enum":[1]}}}}}`)
	f.Fuzz(func(t *testing.T, tools, choice, format string) {
		req := chatRequest{Tools: json.RawMessage(tools), ToolChoice: json.RawMessage(choice)}
		if !json.Valid(req.Tools) || !json.Valid(req.ToolChoice) || !json.Valid([]byte(format)) {
			return
		}
		plan, e := req.parseTools()
		if e != nil && (e.Status != 400 || e.Param == nil) {
			t.Fatalf("error without a parameter: %+v", e)
		}
		if plan != nil && plan.calls.NewMatcher().MinRemaining() >= 1<<28 {
			t.Fatalf("tools %s: a call grammar without a finite reply", tools)
		}
		s, e := parseResponseFormat(json.RawMessage(format))
		if e != nil && (e.Status != 400 || e.Param == nil) {
			t.Fatalf("error without a parameter: %+v", e)
		}
		if s != nil && s.NewMatcher().MinRemaining() >= 1<<28 {
			t.Fatalf("format %s: a grammar without a finite reply", format)
		}
	})
}
