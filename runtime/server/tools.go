package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"

	"github.com/bitnet-go/bitnet/runtime/grammar"
)

// Tools. The built-in chat formats have no tool syntax, so tools are
// described to the model in a system message and a call is a JSON reply
// of the shape grammar.Calls defines:
//
//	[{"name": "get_weather", "arguments": {"city": "Paris"}}]
//
// tool_choice "required" or a named function forces that reply by
// constrained sampling; "auto" lets the first token decide (a reply that
// starts with '[' is a call, held to the grammar from there; anything else
// is text); "none" describes nothing and calls nothing. Assistant messages
// with tool_calls are replayed in the same JSON, and role "tool" messages
// are rendered as the chat format renders any other role.

// toolDef is one entry of the request's tools.
type toolDef struct {
	Type     string `json:"type"`
	Function *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	} `json:"function"`
}

// toolCallIn is a tool call of an assistant message in the conversation.
type toolCallIn struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// toolCallOut is a tool call in a reply; in a stream's delta only the
// first chunk of a call carries id, type and name.
type toolCallOut struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// toolPlan is what a request's tools, tool_choice and
// parallel_tool_calls come to.
type toolPlan struct {
	prompt string          // the system text that describes the tools
	calls  *grammar.Schema // the grammar of a call reply
	forced bool            // required or a named function: the reply is a call
}

// parseTools validates tools, tool_choice and parallel_tool_calls; a nil
// plan means the reply is text.
func (c *chatRequest) parseTools() (*toolPlan, *apiError) {
	var tools []toolDef
	if !isNull(c.Tools) {
		if err := json.Unmarshal(c.Tools, &tools); err != nil {
			return nil, badRequest("tools", "invalid 'tools': expected an array of {type: 'function', function: {name, description, parameters}}")
		}
	}
	choice, named, e := parseToolChoice(c.ToolChoice)
	if e != nil {
		return nil, e
	}
	if len(tools) == 0 {
		if choice != "" && choice != "none" {
			return nil, badRequest("tool_choice", "tool_choice needs tools")
		}
		if c.ParallelToolCalls != nil {
			return nil, badRequest("parallel_tool_calls", "parallel_tool_calls needs tools")
		}
		return nil, nil
	}
	if choice == "none" {
		return nil, nil
	}
	var funcs []grammar.Function
	var described []map[string]any
	for i, t := range tools {
		param := fmt.Sprintf("tools[%d]", i)
		if t.Type != "function" || t.Function == nil {
			return nil, badRequest(param+".type", fmt.Sprintf("unsupported tool type '%s': only 'function' tools with a 'function' object are supported", t.Type))
		}
		f := t.Function
		if !toolName.MatchString(f.Name) {
			return nil, badRequest(param+".function.name", "a function name must be 1 to 64 letters, digits, '_' or '-'")
		}
		for _, g := range funcs {
			if g.Name == f.Name {
				return nil, badRequest(param+".function.name", fmt.Sprintf("function '%s' is defined twice", f.Name))
			}
		}
		params := f.Parameters
		if isNull(params) {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		var top struct {
			Type any `json:"type"`
		}
		if json.Unmarshal(params, &top) != nil || top.Type != nil && top.Type != "object" {
			return nil, badRequest(param+".function.parameters", "a function's parameters must be a JSON Schema of type 'object'")
		}
		s, e := compileSchema(params, f.Strict != nil && *f.Strict, param+".function.parameters")
		if e != nil {
			return nil, e
		}
		if named == "" || named == f.Name {
			funcs = append(funcs, grammar.Function{Name: f.Name, Parameters: s})
		}
		d := map[string]any{"name": f.Name, "parameters": json.RawMessage(params)}
		if f.Description != "" {
			d["description"] = f.Description
		}
		described = append(described, d)
	}
	if named != "" && len(funcs) == 0 {
		return nil, badRequest("tool_choice", fmt.Sprintf("tool_choice names function '%s', which is not among the tools", named))
	}
	parallel := c.ParallelToolCalls == nil || *c.ParallelToolCalls
	list, _ := json.Marshal(described)
	var b strings.Builder
	b.WriteString("You can call these functions (each with a JSON Schema of its arguments):\n")
	b.Write(list)
	b.WriteString("\nTo call functions, reply with only a JSON array of calls, each {\"name\": NAME, \"arguments\": {...}}")
	if !parallel {
		b.WriteString(", holding exactly one call")
	}
	b.WriteString(". Function results come back in messages of role tool.")
	switch {
	case named != "":
		fmt.Fprintf(&b, " You must call %s now.", named)
	case choice == "required":
		b.WriteString(" You must call at least one function now.")
	default:
		b.WriteString(" To answer in text instead, reply with text that does not start with '['.")
	}
	return &toolPlan{prompt: b.String(), calls: grammar.Calls(funcs, parallel), forced: choice == "required" || named != ""}, nil
}

// parseToolChoice returns "auto", "none", "required" or "" (absent), or
// the named function.
func parseToolChoice(raw json.RawMessage) (choice, named string, e *apiError) {
	if isNull(raw) {
		return "", "", nil
	}
	if json.Unmarshal(raw, &choice) == nil {
		switch choice {
		case "auto", "none", "required":
			return choice, "", nil
		}
		return "", "", badRequest("tool_choice", fmt.Sprintf("unsupported tool_choice '%s' (use 'auto', 'none', 'required' or {type: 'function', function: {name}})", choice))
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &obj) != nil || obj.Type != "function" || obj.Function.Name == "" {
		return "", "", badRequest("tool_choice", "invalid 'tool_choice': expected 'auto', 'none', 'required' or {type: 'function', function: {name}}")
	}
	return "", obj.Function.Name, nil
}

// withToolPrompt adds the tools' description to the conversation's first
// system message, or as a system message of its own.
func withToolPrompt(msgs []ChatMessage, prompt string) []ChatMessage {
	if len(msgs) > 0 && msgs[0].Role == "system" {
		out := append([]ChatMessage(nil), msgs...)
		out[0].Content += "\n\n" + prompt
		return out
	}
	return append([]ChatMessage{{Role: "system", Content: prompt}}, msgs...)
}

// toolCallsText renders an assistant message's tool calls as the JSON the
// model writes for them, so that a replayed conversation reads as the
// model's own.
func toolCallsText(calls []toolCallIn, param string) (string, *apiError) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, c := range calls {
		p := fmt.Sprintf("%s[%d]", param, i)
		if c.Type != "" && c.Type != "function" {
			return "", badRequest(p+".type", "only 'function' tool calls are supported")
		}
		if c.Function.Name == "" {
			return "", badRequest(p+".function.name", "a tool call needs a function name")
		}
		args := strings.TrimSpace(c.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) {
			return "", badRequest(p+".function.arguments", "a tool call's arguments must be a JSON text")
		}
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(c.Function.Name)
		fmt.Fprintf(&b, `{"name":%s,"arguments":`, name)
		_ = json.Compact(&b, []byte(args))
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String(), nil
}

func newCallID() string { return fmt.Sprintf("call_%016x%08x", rand.Uint64(), rand.Uint32()) }

// callScanner reads a call reply (the text grammar.Calls accepts) as it
// streams in and cuts it into calls: it learns a call's name when the
// name's string closes and passes its arguments on byte by byte. The
// grammar fixes the shape, so a small scanner over depth, strings and
// colons is enough.
type callScanner struct {
	depth      int // 1 inside the array, 2 inside a call
	inStr, esc bool
	phase      int // in a call: 0 before the name, 1 in it, 2 before the arguments, 3 in them, 4 after
	colons     int
	name       []byte
	argDepth   int
	calls      []toolCallOut
}

// feed scans text; started lists the calls whose name became known, and
// args the new argument text of each call, by index.
func (c *callScanner) feed(text string) (started []int, args map[int]string) {
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			if args == nil {
				args = map[int]string{}
			}
			i := len(c.calls) - 1
			args[i] += string(cur)
			c.calls[i].Function.Arguments += string(cur)
			cur = cur[:0]
		}
	}
	for i := 0; i < len(text); i++ {
		b := text[i]
		if c.phase == 3 {
			cur = append(cur, b)
			switch {
			case c.inStr && c.esc:
				c.esc = false
			case c.inStr && b == '\\':
				c.esc = true
			case c.inStr && b == '"':
				c.inStr = false
			case c.inStr:
			case b == '"':
				c.inStr = true
			case b == '{' || b == '[':
				c.argDepth++
			case b == '}' || b == ']':
				c.argDepth--
				if c.argDepth == 0 {
					c.phase = 4
					flush()
				}
			}
			continue
		}
		if c.inStr {
			switch {
			case c.esc:
				c.esc = false
			case b == '\\':
				c.esc = true
			case b == '"':
				c.inStr = false
				if c.phase == 1 {
					c.phase = 2
					c.calls = append(c.calls, toolCallOut{ID: newCallID(), Type: "function", Function: toolFunction{Name: string(c.name)}})
					started = append(started, len(c.calls)-1)
				}
			case c.phase == 1:
				c.name = append(c.name, b)
			}
			continue
		}
		switch b {
		case '"':
			c.inStr = true
			if c.depth == 2 && c.phase == 0 && c.colons == 1 {
				c.phase = 1
			}
		case '[':
			c.depth++
		case '{':
			c.depth++
			if c.depth == 2 {
				c.phase, c.colons, c.name = 0, 0, c.name[:0]
			}
			if c.depth == 3 && c.phase == 2 && c.colons == 2 {
				c.phase, c.argDepth, c.depth = 3, 1, 2
				cur = append(cur, b)
			}
		case ':':
			if c.depth == 2 {
				c.colons++
			}
		case '}', ']':
			c.depth--
		}
	}
	flush()
	return started, args
}

// toolMessage checks a message's tool fields and returns its text with an
// assistant's tool calls appended in the model's JSON.
func toolMessage(m chatMessageIn, param, text string) (string, *apiError) {
	switch {
	case m.Role == "tool" && (m.ToolCallID == nil || *m.ToolCallID == ""):
		return "", badRequest(param+".tool_call_id", "a message of role 'tool' needs the tool_call_id it answers")
	case len(m.ToolCalls) > 0 && m.Role != "assistant":
		return "", badRequest(param+".tool_calls", "only assistant messages carry tool_calls")
	case len(m.ToolCalls) > 0:
		calls, err := toolCallsText(m.ToolCalls, param+".tool_calls")
		if err != nil {
			return "", err
		}
		if text != "" {
			return text + "\n" + calls, nil
		}
		return calls, nil
	}
	return text, nil
}

// finishCalls is the finish reason of a reply that called tools: OpenAI's
// "tool_calls" when it ended by itself, "length" when cut short.
func finishCalls(reason string) string {
	if reason == finishStop {
		return "tool_calls"
	}
	return reason
}

// callsChoice is choice i of a non-streamed response when it called tools.
func (f format) callsChoice(i int, text, reason string) chatChoice {
	var sc callScanner
	sc.feed(text)
	return chatChoice{Index: i, Message: chatMessageOut{Role: "assistant", ToolCalls: sc.calls}, FinishReason: finishCalls(reason)}
}

// toolStream is what streamTools keeps per choice between events.
type toolStream struct {
	mode    int // 0 undecided, 1 text, 2 calls
	sc      callScanner
	held    string
	heldLps []tokenLogprob // the held text's, for a text reply
	text    streamChoice
}

// streamTools streams a reply that may call tools, each choice on its own.
// Until a choice's first text shows whether it is a call ('[') it holds
// back; a call goes out as delta.tool_calls, in OpenAI's shape: a call's
// first chunk carries its index, id, type and name with empty arguments,
// later chunks the index and the next piece of arguments. A text reply
// carries logprobs when asked for; calls carry none, having no content.
func (s *Server) streamTools(w http.ResponseWriter, r *http.Request, ctx context.Context, jobs []*job, g genRequest, f format) {
	choices := make([]toolStream, len(jobs))
	for i := range choices {
		choices[i].text.logprobs = g.logprobs >= 0
	}
	deliver := func(sw *sseWriter, i int, n news) error {
		c := &choices[i]
		if c.mode == 0 {
			// The first text decides (see constraint.accept).
			c.held += n.text
			c.heldLps = append(c.heldLps, n.lps...)
			n.text, n.lps = "", nil
			if f.forced || c.held != "" {
				c.mode = 1
				if f.forced || isCalls(c.held) {
					c.mode = 2
				}
				n.text, c.held = c.held, ""
				n.lps, c.heldLps = c.heldLps, nil
			}
		}
		switch {
		case c.mode == 1 && (n.text != "" || len(n.lps) > 0):
			return sw.event(f.delta(i, &c.text, n.text, n.lps))
		case c.mode == 2 && n.text != "":
			started, args := c.sc.feed(n.text)
			var deltas []toolCallOut
			for _, k := range started {
				d := c.sc.calls[k]
				d.Index, d.Function.Arguments = intp(k), ""
				deltas = append(deltas, d)
			}
			for k := range len(c.sc.calls) {
				if a, ok := args[k]; ok {
					deltas = append(deltas, toolCallOut{Index: intp(k), Function: toolFunction{Arguments: a}})
				}
			}
			if len(deltas) > 0 {
				return sw.event(f.chatChunk(i, chatDelta{ToolCalls: deltas}, nil, nil))
			}
		}
		return nil
	}
	s.streamEvents(w, r, ctx, jobs, g, f, deliver, func(i int, reason string) string {
		if choices[i].mode == 2 {
			return finishCalls(reason)
		}
		return reason
	})
}

func intp(i int) *int { return &i }

// isCalls reports whether a reply under tool_choice auto calls tools: its
// first text byte is '[' exactly when it does (constraint.accept).
func isCalls(text string) bool { return strings.HasPrefix(text, "[") }
