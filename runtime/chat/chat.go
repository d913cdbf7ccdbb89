// Package chat renders conversations into prompt text the way Hugging Face
// transformers' apply_chat_template does: a model's tokenizer.chat_template
// is a Jinja template, rendered with messages, add_generation_prompt,
// bos_token, eos_token and tools, with Jinja's trim_blocks and lstrip_blocks
// on and transformers' extras (raise_exception, strftime_now, tojson with
// Python's separators). test/jinja checks the renderings byte for byte
// against @huggingface/jinja on a corpus of published templates.
//
// Built-in formats, themselves Jinja sources, serve files without a
// template and files whose template is a known marker rather than the
// model's format (bitnet.cpp's "BITNET" converter template, FORMATS.md §10).
//
// The rendered text may or may not start with the BOS text (Llama-3
// templates write {{ bos_token }}, the 2B-4T one does not); Tokens
// tokenizes it so that the model sees exactly one BOS either way.
package chat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// Message is one turn of a conversation. Role is "system", "user",
// "assistant" or "tool" (the template decides what other roles mean).
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Options are apply_chat_template's arguments besides the messages.
type Options struct {
	// AddGenerationPrompt ends the text with the opening of an assistant
	// turn, so that the model's continuation is the reply.
	AddGenerationPrompt bool
	// Tools is a JSON array of OpenAI-style tool definitions, or nil. Key
	// order is kept: templates print tools with tojson.
	Tools json.RawMessage
	// Vars are extra template variables (transformers' chat_template
	// kwargs, such as enable_thinking), each a JSON value.
	Vars map[string]json.RawMessage
	// Now is the time strftime_now formats; zero means the current time.
	Now time.Time
}

// Template is a chat template: a compiled Jinja source with the special
// token texts it is rendered with. The zero Template is the ChatML format
// (libllama's fallback).
type Template struct {
	t *compiled
}

type compiled struct {
	name     string // a built-in format's name, or where the source came from
	builtin  bool
	source   string
	tmpl     *jinja.Template
	bos, eos string
	stops    []string // a built-in format's own list; nil: derived from source
}

func (t Template) get() *compiled {
	if t.t == nil {
		return chatML()
	}
	return t.t
}

// Name is the built-in format's name ("bitnet", "llama3", ...) or, for a
// template read from a model or file, where it came from.
func (t Template) Name() string { return t.get().name }

// Builtin reports whether t is one of the built-in formats.
func (t Template) Builtin() bool { return t.get().builtin }

// Source is the Jinja source of the template, as a GGUF's
// tokenizer.chat_template would carry it.
func (t Template) Source() string { return t.get().source }

// WithTokens returns t rendering bos_token and eos_token as the given
// texts (a vocabulary's BOS and EOS token texts).
func (t Template) WithTokens(bos, eos string) Template {
	c := *t.get()
	c.bos, c.eos = bos, eos
	return Template{&c}
}

// Apply renders plain text messages. With addAssistant the text ends with
// the opening of an assistant turn.
func (t Template) Apply(msgs []Message, addAssistant bool) (string, error) {
	if msgs == nil {
		msgs = []Message{} // an empty conversation, not JSON null
	}
	raw, err := json.Marshal(msgs)
	if err != nil {
		return "", err
	}
	return t.Render(raw, Options{AddGenerationPrompt: addAssistant})
}

// Render renders a JSON array of OpenAI-style messages (content may be
// null or a list of parts, assistant turns may carry tool_calls) as
// apply_chat_template does. Errors name the template; raise_exception's
// message is passed on.
func (t Template) Render(messages json.RawMessage, o Options) (string, error) {
	c := t.get()
	ctx := map[string]jinja.Value{}
	msgs, err := jsonValue(messages)
	if err != nil {
		return "", fmt.Errorf("chat template %s: messages: %w", c.name, err)
	}
	if !msgs.IsList() {
		return "", fmt.Errorf("chat template %s: messages must be a JSON array", c.name)
	}
	for k, raw := range o.Vars {
		v, err := jsonValue(raw)
		if err != nil {
			return "", fmt.Errorf("chat template %s: variable %s: %w", c.name, k, err)
		}
		ctx[k] = v
	}
	ctx["messages"] = msgs
	ctx["add_generation_prompt"] = jinja.NewBool(o.AddGenerationPrompt)
	ctx["bos_token"] = jinja.NewString(c.bos)
	ctx["eos_token"] = jinja.NewString(c.eos)
	if len(o.Tools) > 0 && string(o.Tools) != "null" {
		tools, err := jsonValue(o.Tools)
		if err != nil {
			return "", fmt.Errorf("chat template %s: tools: %w", c.name, err)
		}
		ctx["tools"] = tools
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	ctx["strftime_now"] = strftimeNow(now)
	ctx[tojsonFunc] = jinja.NewCallable(tojsonFunc, tojsonCall)
	ctx["raise_exception"] = jinja.NewCallable("raise_exception", raiseException)
	ctx["range"] = jinja.NewCallable("range", rangeFunc)
	ctx[macroGuard] = jinja.NewCallable(macroGuard, macroGuardFunc)
	return c.render(ctx)
}

// Stops returns the texts that close an assistant turn in this template:
// the known end-of-turn markers its source writes. Generation normally
// stops on the tokenizer's end-of-generation tokens; these strings are for
// vocabularies where the marker is not one token and for servers that cut
// the reply text.
func (t Template) Stops() []string {
	c := t.get()
	if c.stops != nil {
		return slices.Clone(c.stops)
	}
	src := c.source
	var stops []string
	for _, m := range turnEnds {
		if strings.Contains(src, m) {
			stops = append(stops, m)
		}
	}
	return stops
}

// turnEnds are the end-of-turn markers of the chat formats in use, in the
// order Stops reports them.
var turnEnds = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<end_of_turn>", "<|user|>"}

// Parse compiles a Jinja chat template; name says where it came from
// ("tokenizer.chat_template of model.gguf", a file name) and prefixes
// every error, with the template's line where the parser reports one.
func Parse(name, source string) (Template, error) {
	tmpl, err := compile(name, source)
	if err != nil {
		return Template{}, err
	}
	// A file carrying a built-in format's source (bitnet dummy writes the
	// falcon3 one) is that format, stops included: "<|user|>" is not in
	// the falcon3 source literally, so deriving would find none.
	var stops []string
	for _, b := range builtins {
		if b.source == source {
			stops = b.stops
		}
	}
	return Template{&compiled{name: name, source: source, tmpl: tmpl, stops: stops}}, nil
}

// IsMarker reports whether a GGUF's tokenizer.chat_template is bitnet.cpp's
// converter template, which marks a BitNet b1.58 file rather than giving
// its format ("Human: ... BITNETAssistant: ", FORMATS.md §10).
func IsMarker(source string) bool {
	return strings.Contains(source, "BITNETAssistant")
}

// ForModel picks the template for a model from its tokenizer.chat_template
// (source) and general.architecture: the template itself when it has one;
// the BitNet b1.58 2B-4T template (FORMATS.md §7) for bitnet.cpp's marker
// template and for bitnet-b1.58 files without a template; ChatML for other
// files without one. A template that does not compile is an error naming
// origin (the file) and the line.
func ForModel(source, arch, origin string) (Template, error) {
	switch {
	case IsMarker(source):
		t, _ := Named("bitnet")
		return t, nil
	case strings.TrimSpace(source) == "":
		switch arch {
		case "bitnet-b1.58", "bitnet-25":
			t, _ := Named("bitnet")
			return t, nil
		}
		return Template{}, nil
	}
	return Parse("tokenizer.chat_template of "+origin, source)
}

// Override resolves llama.cpp's --chat-template argument: a built-in
// format's name, or a file holding either a Jinja template or a
// tokenizer_config.json whose chat_template is used.
func Override(arg string) (Template, error) {
	if t, ok := Named(arg); ok {
		return t, nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return Template{}, fmt.Errorf("--chat-template %q is neither a built-in format (%s) nor a readable file: %w",
			arg, strings.Join(Names(), ", "), err)
	}
	src := string(data)
	if strings.EqualFold(filepath.Ext(arg), ".json") {
		src, err = TemplateFromConfig(data)
		if err != nil {
			return Template{}, fmt.Errorf("%s: %w", arg, err)
		}
	}
	return Parse(arg, src)
}

// namedTemplate is one entry of a tokenizer_config.json chat_template list.
type namedTemplate struct {
	Name     string `json:"name"`
	Template string `json:"template"`
}

// TemplateFromConfig returns the chat template of a tokenizer_config.json:
// its chat_template string, or the "default" entry of a list of named
// templates (the first when none is called default).
func TemplateFromConfig(data []byte) (string, error) {
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("tokenizer config: %w", err)
	}
	if len(cfg.ChatTemplate) == 0 || string(cfg.ChatTemplate) == "null" {
		return "", fmt.Errorf("tokenizer config has no chat_template")
	}
	var s string
	if json.Unmarshal(cfg.ChatTemplate, &s) == nil {
		return s, nil
	}
	var named []namedTemplate
	if err := json.Unmarshal(cfg.ChatTemplate, &named); err != nil || len(named) == 0 {
		return "", fmt.Errorf("chat_template is neither a string nor a list of named templates")
	}
	i := slices.IndexFunc(named, func(n namedTemplate) bool { return n.Name == "default" })
	return named[max(i, 0)].Template, nil
}
