package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
)

var conversation = []Message{
	{"system", "Be brief."},
	{"user", "Hi!"},
	{"assistant", "Hello."},
	{"user", " How are you? "},
}

func TestApply(t *testing.T) {
	for _, c := range []struct {
		name      string
		assistant bool
		want      string
	}{
		{"bitnet", true, "System: Be brief.<|eot_id|>User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User: How are you?<|eot_id|>Assistant: "},
		{"bitnet", false, "System: Be brief.<|eot_id|>User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User: How are you?<|eot_id|>"},
		{"llama3", true, "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
			"<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
			"<|start_header_id|>user<|end_header_id|>\n\nHow are you?<|eot_id|>" +
			"<|start_header_id|>assistant<|end_header_id|>\n\n"},
		{"falcon3", true, "<|system|>\nBe brief.\n<|user|>\nHi!\n<|assistant|>\nHello.\n<|user|>\n How are you? \n<|assistant|>\n"},
		{"falcon_e", true, "systemBe brief.\nuserHi!\nassistantHello.\nuser How are you? \nassistant\n"},
		{"phi3", false, "<|system|>\nBe brief.<|end|>\n<|user|>\nHi!<|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\n How are you? <|end|>\n"},
		{"zephyr", true, "<|system|>\nBe brief.<|endoftext|>\n<|user|>\nHi!<|endoftext|>\n<|assistant|>\nHello.<|endoftext|>\n<|user|>\n How are you? <|endoftext|>\n<|assistant|>\n"},
		{"chatml", true, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\n How are you? <|im_end|>\n<|im_start|>assistant\n"},
	} {
		tmpl, ok := Named(c.name)
		if !ok {
			t.Fatalf("no template %q", c.name)
		}
		got, err := tmpl.Apply(conversation, c.assistant)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s (assistant %v):\n got %q\nwant %q", c.name, c.assistant, got, c.want)
		}
		// A GGUF carrying the format's source renders it identically.
		parsed, err := Parse("copy of "+c.name, tmpl.Source())
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := parsed.Apply(conversation, c.assistant); again != got {
			t.Errorf("%s: its source renders %q", c.name, again)
		}
	}
}

// TestBitnetSingleTurn is the 2B-4T prompt as the model's own template
// renders it through @huggingface/jinja (FORMATS.md §7).
func TestBitnetSingleTurn(t *testing.T) {
	tmpl, _ := Named("bitnet")
	got, err := tmpl.Apply([]Message{{"system", "You are a helpful assistant."}, {"user", "Hey, are you conscious?"}}, true)
	want := "System: You are a helpful assistant.<|eot_id|>User: Hey, are you conscious?<|eot_id|>Assistant: "
	if err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if got, _ := tmpl.Apply([]Message{{"tool", "42"}}, false); got != "Tool: 42<|eot_id|>" {
		t.Errorf("other role: %q", got)
	}
}

const converterTemplate = "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"

func TestForModel(t *testing.T) {
	for _, c := range []struct {
		name, tmpl, arch string
		want             string // built-in name, or "" for the file's own template
	}{
		{"converter marker", converterTemplate, "bitnet-25", "bitnet"},
		{"converter marker, llama arch", converterTemplate, "llama", "bitnet"},
		{"none, b1.58", "", "bitnet-b1.58", "bitnet"},
		{"none, bitnet-25", "", "bitnet-25", "bitnet"},
		{"none, llama", "", "llama", "chatml"},
		{"blank, llama", " \n", "llama", "chatml"},
		{"own template", "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}", "llama", ""},
	} {
		tmpl, err := ForModel(c.tmpl, c.arch, "m.gguf")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.want != "" && (tmpl.Name() != c.want || !tmpl.Builtin()) {
			t.Errorf("%s: got %q (builtin %v), want built-in %q", c.name, tmpl.Name(), tmpl.Builtin(), c.want)
		}
		if c.want == "" {
			got, err := tmpl.Apply([]Message{{"user", "x"}}, true)
			if tmpl.Builtin() || err != nil || got != "[user]x" || tmpl.Name() != "tokenizer.chat_template of m.gguf" {
				t.Errorf("%s: %q %q %v", c.name, tmpl.Name(), got, err)
			}
		}
	}
}

// TestBadTemplates: errors name the template and, where it can be known,
// the line; nothing panics.
func TestBadTemplates(t *testing.T) {
	for _, c := range []struct {
		name, src string
		parse     bool     // the error comes at Parse (else at Apply)
		want      []string // substrings of the error
	}{
		{"syntax error", "{% for m in messages %}\n{{ m.content }}\n{{ m.role + }}\n{% endfor %}", true, []string{"chat template bad.jinja", "line 3"}},
		{"unclosed block", "{% if x %}abc", true, []string{"chat template bad.jinja", "if"}},
		{"unknown statement", "ok\n{% endfor %}", true, []string{"line 2", "endfor"}},
		{"raise_exception", "{% for m in messages %}\n{% if m.role != 'system' %}\n{{ raise_exception('Only system turns here') }}\n{% endif %}{% endfor %}", false,
			[]string{"chat template bad.jinja", "line 3", "raise_exception: Only system turns here"}},
		{"undefined function", "{{ undefined_helper(messages) }}", false, []string{"chat template bad.jinja", "undefined_helper"}},
		{"unknown filter", "{{ messages | shuffle_me }}", false, []string{"chat template bad.jinja", "shuffle_me"}},
	} {
		tmpl, err := Parse("bad.jinja", c.src)
		if err == nil {
			if c.parse {
				t.Errorf("%s: Parse succeeded", c.name)
				continue
			}
			_, err = tmpl.Apply([]Message{{"user", "Hi"}}, true)
		} else if !c.parse {
			t.Errorf("%s: Parse: %v", c.name, err)
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	if _, err := ForModel("{% if %}", "llama", "x.gguf"); err == nil || !strings.Contains(err.Error(), "tokenizer.chat_template of x.gguf") {
		t.Errorf("ForModel of a broken template: %v", err)
	}
}

// TestTransformersExtras: what transformers adds around Jinja, as
// @huggingface/jinja renders it (the expected strings are its output).
func TestTransformersExtras(t *testing.T) {
	now := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	tools := json.RawMessage(`[{"type":"function","function":{"name":"f","parameters":{"z":1,"a":[],"m":{},"s":"<a&b>\n"}}}]`)
	for _, c := range []struct {
		name, src string
		opts      Options
		want      string
	}{
		{"strftime_now", `{{ strftime_now("%d %b %Y") }}|{{ strftime_now("%Y-%m-%d %H:%M %B") }}`, Options{Now: now}, "03 Feb 2026|2026-02-03 04:05 February"},
		{"tojson keeps key order", `{{ tools[0] | tojson }}`, Options{Tools: tools},
			`{"type": "function", "function": {"name": "f", "parameters": {"z": 1, "a": [], "m": {}, "s": "<a&b>\n"}}}`},
		{"tojson indent keeps key order", "{% for t in tools %}{{ t.function | tojson(indent=2) }}{% endfor %}", Options{Tools: tools},
			"{\n  \"name\": \"f\",\n  \"parameters\": {\n    \"z\": 1,\n    \"a\": [],\n    \"m\": {},\n    \"s\": \"<a&b>\\n\"\n  }\n}"},
		{"no tools is undefined", `{% if tools is defined %}T{% else %}none{% endif %}`, Options{}, "none"},
		{"extra variables", `{% if enable_thinking is false %}no think{% endif %}`, Options{Vars: map[string]json.RawMessage{"enable_thinking": json.RawMessage("false")}}, "no think"},
		{"trim_blocks and lstrip_blocks", "{% for m in messages %}\n    {% if true %}\n[{{ m.content }}]\n    {% endif %}\n{% endfor %}", Options{}, "[a]\n"},
		{"null content", `{% for m in messages %}{{ m.content is none }}{% endfor %}`, Options{}, "False"},
	} {
		tmpl, err := Parse(c.name, c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		msgs := `[{"role":"user","content":"a"}]`
		got, err := tmpl.Render(json.RawMessage(msgs), c.opts)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	tmpl, _ := Parse("bos", "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}")
	if got, _ := tmpl.WithTokens("<s>", "</s>").Apply([]Message{{"user", "x"}}, false); got != "<s>x</s>" {
		t.Errorf("WithTokens: %q", got)
	}
	if _, err := tmpl.Render(json.RawMessage(`{"role":"user"}`), Options{}); err == nil {
		t.Error("messages that are not an array: no error")
	}
}

func TestStops(t *testing.T) {
	for name, want := range map[string][]string{
		"bitnet": {"<|eot_id|>"}, "llama3": {"<|eot_id|>"}, "chatml": {"<|im_end|>"}, "phi3": {"<|end|>"},
		"zephyr": {"<|endoftext|>"}, "falcon3": {"<|user|>"}, "falcon_e": nil,
	} {
		tmpl, _ := Named(name)
		if got := tmpl.Stops(); !slices.Equal(got, want) {
			t.Errorf("%s: Stops = %q, want %q", name, got, want)
		}
		// The same source read from a file (a dummy GGUF) stops alike.
		parsed, err := Parse("file", tmpl.Source())
		if got := parsed.Stops(); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s parsed: Stops = %q, want %q (%v)", name, got, want, err)
		}
	}
}

func TestZeroTemplateIsChatML(t *testing.T) {
	var z Template
	if z.Name() != "chatml" || !slices.Equal(z.Stops(), []string{"<|im_end|>"}) {
		t.Errorf("zero Template: %q %q", z.Name(), z.Stops())
	}
	if got, err := z.Apply([]Message{{"user", "x"}}, true); err != nil || got != "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("zero Template Apply = %q, %v", got, err)
	}
	if len(Names()) != 7 {
		t.Errorf("Names() = %q", Names())
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	jinjaFile := filepath.Join(dir, "t.jinja")
	os.WriteFile(jinjaFile, []byte("{% for m in messages %}<{{ m.content }}>{% endfor %}"), 0o644)
	cfgFile := filepath.Join(dir, "tokenizer_config.json")
	os.WriteFile(cfgFile, []byte(`{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages|length }}"}]}`), 0o644)
	noTmpl := filepath.Join(dir, "none.json")
	os.WriteFile(noTmpl, []byte(`{"bos_token": "<s>"}`), 0o644)
	for _, c := range []struct{ arg, want, err string }{
		{"llama3", "<|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", ""},
		{jinjaFile, "<x>", ""},
		{cfgFile, "D1", ""},
		{noTmpl, "", "no chat_template"},
		{filepath.Join(dir, "missing"), "", "neither a built-in format"},
	} {
		tmpl, err := Override(c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.arg, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.arg, err)
		}
		if got, _ := tmpl.Apply([]Message{{"user", "x"}}, true); got != c.want {
			t.Errorf("%s: %q, want %q", c.arg, got, c.want)
		}
	}
}

// TestGoldenTemplate reads tokenizer.chat_template from the golden b1.58
// GGUF written by bitnet.cpp's converter: it is the marker, which means the
// 2B-4T template.
func TestGoldenTemplate(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "golden", "bitnet-b158-tiny", "bitnetcpp-i2_s.gguf")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("golden data not available: %v", err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tmpl, ok := f.String("tokenizer.chat_template")
	if !ok {
		t.Fatal("no tokenizer.chat_template")
	}
	if !IsMarker(tmpl) {
		t.Errorf("%q is not recognised as bitnet.cpp's marker", tmpl)
	}
	if got, err := ForModel(tmpl, f.Arch(), path); err != nil || got.Name() != "bitnet" {
		t.Errorf("ForModel(%q, %q) = %q, %v; want bitnet", tmpl, f.Arch(), got.Name(), err)
	}
}

// TestRenderedPromptTokenizes shows the intended use: Tokens gives BOS
// once, whether or not the template writes it, and <|eot_id|> as its token.
func TestRenderedPromptTokenizes(t *testing.T) {
	var tokens []string
	for b := 0; b < 256; b++ {
		tokens = append(tokens, byteAlphabet(byte(b)))
	}
	bos := int32(len(tokens))
	tokens = append(tokens, "<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>")
	types := make([]tokenizer.TokenType, len(tokens))
	for i := range types {
		types[i] = tokenizer.TypeNormal
	}
	types[bos], types[bos+1], types[bos+2] = tokenizer.TypeControl, tokenizer.TypeControl, tokenizer.TypeControl
	tok, err := tokenizer.New(tokenizer.Vocab{
		Model: tokenizer.ModelBPE, Pre: "llama-bpe", Tokens: tokens, Types: types, Merges: []string{"a b"},
		BOS: bos, EOS: bos + 2, EOT: tokenizer.NoToken, EOM: tokenizer.NoToken, UNK: tokenizer.NoToken, PAD: tokenizer.NoToken,
		ChatTemplate: "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}<|eot_id|>{% endfor %}",
	})
	if err != nil {
		t.Fatal(err)
	}
	withBOS, err := ForTokenizer(tok, "llama", "t.gguf", "")
	if err != nil {
		t.Fatal(err)
	}
	without, _ := ForModel("", "bitnet-b1.58", "t.gguf")
	for _, tmpl := range []Template{withBOS, without} {
		text, err := tmpl.Apply([]Message{{"user", "Hi"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		ids := Tokens(tok, text)
		if ids[0] != bos || ids[1] == bos || !slices.Contains(ids, bos+1) || !tok.IsEOG(bos+1) {
			t.Errorf("%s: ids %v: want one BOS first and <|eot_id|> as one end-of-generation token", tmpl.Name(), ids)
		}
	}
}

// byteAlphabet spells byte b as GPT-2's byte-level vocabularies do.
func byteAlphabet(b byte) string {
	if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || 0xAE <= b {
		return string(rune(b))
	}
	n := 0
	for c := 0; c < int(b); c++ {
		if !(('!' <= c && c <= '~') || (0xA1 <= c && c <= 0xAC) || 0xAE <= c) {
			n++
		}
	}
	return string(rune(256 + n))
}

// TestResourceGuards: a template cannot take the process down. Endless
// macro recursion fails the rendering (it would overflow the stack, which
// no recover catches) while bounded recursion, as tool templates use for
// nested schemas, works; range() is limited as in transformers' sandbox.
func TestResourceGuards(t *testing.T) {
	for _, c := range []struct {
		name, src, want, err string
	}{
		{"bounded recursion", "{% macro f(n, sep='') %}{{ n }}{% if n > 0 %}{{ sep }}{{ f(n - 1, sep=sep) }}{% endif %}{% endmacro %}{{ f(3, sep=',') }}", "3,2,1,0", ""},
		{"macro without parameters", "{%- macro hi() -%}hi{%- endmacro -%}{{ hi() }} {{ hi() }}", "hi hi", ""},
		{"parenthesis in a default", "{% macro f(a=(1 + 2), b=')') %}{{ a }}{{ b }}{% endmacro %}{{ f() }}", "3)", ""},
		{"endless recursion", "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "", "macros nest too deeply"},
		{"mutual recursion", "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "", "macros nest too deeply"},
		{"range", "{{ range(3) | join(',') }};{{ range(1, 7, 2) | join(',') }};{{ range(5, 0, -2) | join(',') }};{{ range(0) | length }}", "0,1,2;1,3,5;5,3,1;0", ""},
		{"range too long", "{% for i in range(100000001) %}{% endfor %}", "", "longer than the 100000 allowed"},
		{"range step zero", "{{ range(1, 2, 0) }}", "", "step must not be zero"},
	} {
		tmpl, err := Parse(c.name, c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := tmpl.Apply(nil, false)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "chat template "+c.name) {
				t.Errorf("%s: %q, %v; want an error with %q", c.name, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// TestTouchingTags: whitespace control on a tag that touches another tag
// strips nothing, and the template's last newline goes; the expected
// strings are @huggingface/jinja's.
func TestTouchingTags(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`{{ "a" }} {{ "b" }}{%- if true %}x{% endif %}`, "a bx"},
		{`{{ "a" }} {{ "b" }}{{- "c" }}`, "a bc"},
		{`{{ "a" }} {% if true %}{%- if true %}x{% endif %}{% endif %}`, "a x"},
		{`a {# c #}{#- d #}b`, "a b"},
		{`{% if true -%}{% if true %}{{ "a" }} {{ "b" }}{% endif %}{% endif %}`, "a b"},
		{`{{ "x" -}}{{ "a" }} {{ "b" }}`, "xa b"},
		{`{% if true -%}{# c #}{{ "a" }} {{ "b" }}{% endif %}`, "a b"},
		{`{% macro hi() %}hi{% endmacro -%}{{ hi() }} {{ hi() }}`, "hi hi"},
		{"{% if true -%}   \n {{ 'a' }}{% endif %}", "a"},
		// Jinja drops one trailing newline (keep_trailing_newline off).
		{"{{ 'a' }}\n", "a"},
		{"{{ 'a' }}\n\n", "a\n"},
		{"{{ 'a' }}  ", "a  "},
	} {
		tmpl, err := Parse("t", c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got, err := tmpl.Apply(nil, false); err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.src, got, err, c.want)
		}
	}
}

// TestTojsonArguments: tojson with arguments is transformers' json.dumps
// (the expected strings are Python's).
func TestTojsonArguments(t *testing.T) {
	const d = `{% set d = {'b': 1, 'a': [1, 2.5, 'é<&>'], 'c': {}} %}`
	for _, c := range []struct{ src, want string }{
		{d + `{{ d | tojson(sort_keys=true) }}`, `{"a": [1, 2.5, "é<&>"], "b": 1, "c": {}}`},
		{d + `{{ d | tojson(separators=[',', ':']) }}`, `{"b":1,"a":[1,2.5,"é<&>"],"c":{}}`},
		{d + `{{ d | tojson(ensure_ascii=true) }}`, `{"b": 1, "a": [1, 2.5, "\u00e9<&>"], "c": {}}`},
		{d + `{{ d.a | tojson(indent=2) }}`, "[\n  1,\n  2.5,\n  \"é<&>\"\n]"},
		{d + `{{ d | tojson(indent='\t', sort_keys=true) }}`, "{\n\t\"a\": [\n\t\t1,\n\t\t2.5,\n\t\t\"é<&>\"\n\t],\n\t\"b\": 1,\n\t\"c\": {}\n}"},
		{`{% set f = [2.0, 0.0001, 0.00001, 10000000000000000.0, 123456789.5, -0.5] %}{{ f | tojson(sort_keys=false) }}`, `[2.0, 0.0001, 1e-05, 1e+16, 123456789.5, -0.5]`},
		{`{% set s = 'a"\\` + "\n\x01" + `😀' %}{{ s | tojson(ensure_ascii=true) }}`, `"a\"\\\n\u0001\ud83d\ude00"`},
	} {
		tmpl, err := Parse("t", c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got, err := tmpl.Apply(nil, false); err != nil || got != c.want {
			t.Errorf("%s:\n got %q, %v\nwant %q", c.src, got, err, c.want)
		}
	}
	if _, err := Parse("t", `{{ messages | tojson(colour=1) }}`); err != nil {
		t.Fatal(err)
	}
	tmpl, _ := Parse("t", `{{ messages | tojson(colour=1) }}`)
	if _, err := tmpl.Apply(nil, false); err == nil || !strings.Contains(err.Error(), `unexpected argument "colour"`) {
		t.Errorf("unknown tojson argument: %v", err)
	}
}
