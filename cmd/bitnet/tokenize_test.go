package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
)

// modelTokenizer reads the tokenizer of a GGUF the way tokenize does, for
// the expected values.
func modelTokenizer(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenizeText(t *testing.T) {
	model := dummyModel(t)
	tok := modelTokenizer(t, model)
	text := "Hello world, the model reads<|eot_id|>"
	for _, c := range []struct {
		name string
		args []string
		bos  bool
	}{
		{"with BOS", nil, true},
		{"--no-bos", []string{"--no-bos"}, false},
	} {
		out, _, err := runCLIInput(t, "", append([]string{"tokenize", "-m", model, "-p", text, "--json"}, c.args...)...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got struct {
			IDs    []int32  `json:"ids"`
			Pieces []string `json:"pieces"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v in %q", c.name, err, out)
		}
		want := tok.Encode(text, c.bos, true)
		if !slices.Equal(got.IDs, want) || len(got.Pieces) != len(want) {
			t.Errorf("%s: ids %v, want %v (%d pieces)", c.name, got.IDs, want, len(got.Pieces))
		}
		if (got.IDs[0] == tok.BOS()) != c.bos {
			t.Errorf("%s: first id %d, BOS %d", c.name, got.IDs[0], tok.BOS())
		}
		joined := strings.Join(got.Pieces, "")
		if c.bos {
			joined = strings.TrimPrefix(joined, "<|begin_of_text|>")
		}
		if joined != text {
			t.Errorf("%s: pieces join to %q", c.name, joined)
		}
	}
	// The plain form: one "id -> 'piece'" line per token.
	out, _, err := runCLIInput(t, "", "tokenize", "-m", model, "-p", "Hello world")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if want := tok.Encode("Hello world", true, true); len(lines) != len(want) || lines[1] != fmt.Sprintf("%6d -> 'Hello'", want[1]) {
		t.Errorf("plain output %q for ids %v", out, want)
	}
}

func TestTokenizeChat(t *testing.T) {
	model := dummyModel(t)
	tok := modelTokenizer(t, model)
	dir := t.TempDir()
	msgs := filepath.Join(dir, "messages.json")
	os.WriteFile(msgs, []byte(`[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi "}]`), 0o644)
	bad := filepath.Join(dir, "bad.jinja")
	os.WriteFile(bad, []byte("{% for m in messages %}\n{{ m.content + }}\n{% endfor %}"), 0o644)
	raise := filepath.Join(dir, "raise.jinja")
	os.WriteFile(raise, []byte("{% if messages[0].role == 'system' %}\n{{ raise_exception('System role not supported') }}\n{% endif %}"), 0o644)
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		text  string // the rendering; "" when an error is wanted
		err   []string
	}{
		// The dummy GGUF's own template (Llama-3 style, no trim, writes
		// {{ bos_token }}), rendered as Jinja renders it.
		{"model's template", []string{"--chat", msgs}, "",
			"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", nil},
		{"stdin, built-in override", []string{"--chat", "-", "--chat-template", "bitnet"}, `[{"role":"user","content":" Hi "}]`,
			"User: Hi<|eot_id|>Assistant: ", nil},
		{"syntax error", []string{"--chat", msgs, "--chat-template", bad}, "", "", []string{"bad.jinja", "line 2"}},
		{"raise_exception", []string{"--chat", msgs, "--chat-template", raise}, "", "", []string{"raise.jinja", "line 2", "System role not supported"}},
		{"not an array", []string{"--chat", "-"}, `{"role":"user"}`, "", []string{"want a JSON array of messages"}},
	} {
		out, _, err := runCLIInput(t, c.stdin, append([]string{"tokenize", "-m", model, "--json"}, c.args...)...)
		if c.err != nil {
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			for _, w := range c.err {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: error %q does not mention %q", c.name, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v in %q", c.name, err, out)
		}
		if got.Text != c.text {
			t.Errorf("%s: text %q, want %q", c.name, got.Text, c.text)
		}
		// BOS once: the template's own and the vocabulary's are one token.
		if got.IDs[0] != tok.BOS() || got.IDs[1] == tok.BOS() {
			t.Errorf("%s: ids %v, want exactly one leading BOS %d", c.name, got.IDs, tok.BOS())
		}
		if eot, _ := tok.Lookup("<|eot_id|>"); !slices.Contains(got.IDs, eot) {
			t.Errorf("%s: <|eot_id|> (%d) is not one token in %v", c.name, eot, got.IDs)
		}
	}
}

func TestTokenizeErrors(t *testing.T) {
	model := dummyModel(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "-m", model}, "give the text with -p TEXT or -f FILE"},
		{[]string{"tokenize", "-p", "x"}, `"model" not set`},
		{[]string{"tokenize", "-m", model, "-p", "x", "--chat", "m.json"}, "none of the others can be"},
		{[]string{"tokenize", "-m", model, "-p", "x", "--chat-template", "bitnet"}, "--chat-template needs --chat"},
		{[]string{"tokenize", "-m", filepath.Join(t.TempDir(), "missing.gguf"), "-p", "x"}, "missing.gguf"},
	} {
		_, _, err := runCLIInput(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}

// TestChatBadTemplate: a template that raises on every request does not
// end the chat; each message gets the error, naming template and line.
func TestChatBadTemplate(t *testing.T) {
	model := dummyModel(t)
	raise := filepath.Join(t.TempDir(), "raise.jinja")
	os.WriteFile(raise, []byte("{{ raise_exception('No chats today') }}"), 0o644)
	_, errOut, err := runCLIInput(t, "Hi\nAgain\n/exit\n", "chat", "-m", model, "-n", "2", "--chat-template", raise)
	if err != nil {
		t.Fatalf("chat ended with %v", err)
	}
	if strings.Count(errOut, "raise.jinja: line 1: raise_exception: No chats today") != 2 {
		t.Errorf("stderr %q", errOut)
	}
	broken := filepath.Join(t.TempDir(), "broken.jinja")
	os.WriteFile(broken, []byte("{% if %}"), 0o644)
	if _, _, err := runCLIInput(t, "Hi\n", "chat", "-m", model, "--chat-template", broken); err == nil || !strings.Contains(err.Error(), "broken.jinja") {
		t.Errorf("a template that does not compile: %v", err)
	}
}

// TestOverrideKV: --override-kv changes the metadata tokenize and run
// read, as llama.cpp's does.
func TestOverrideKV(t *testing.T) {
	model := dummyModel(t)
	tok := modelTokenizer(t, model)
	out, _, err := runCLIInput(t, "", "tokenize", "-m", model, "-p", "Hello", "--json", "--override-kv", "tokenizer.ggml.add_bos_token=bool:false")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, fmt.Sprintf(`"ids":[%d,`, tok.BOS())) || !strings.HasPrefix(out, `{"ids":[`) {
		t.Errorf("add_bos_token overridden to false: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-m", model, "-p", "x", "-c", "48", "--override-kv", "bitnet-b1.58.context_length=int:32"}, "context 48 is longer than the model allows (bitnet-b1.58.context_length = 32)"},
		{[]string{"tokenize", "-m", model, "-p", "x", "--override-kv", "tokenizer.ggml.bos_token_id=int:99999"}, "bos_token_id"},
		{[]string{"run", "-m", model, "-p", "x", "--override-kv", "a=u8:1"}, `--override-kv: override "a=u8:1": unknown type "u8"`},
		{[]string{"serve", "-m", model, "--override-kv", "a=1"}, "want KEY=TYPE:VALUE"},
	} {
		_, _, err := runCLIInput(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
}
