package chat

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

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
		{"bitnet", true, "System: Be brief.User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User:  How are you? <|eot_id|>Assistant: "},
		{"bitnet", false, "System: Be brief.User: Hi!<|eot_id|>Assistant: Hello.<|eot_id|>User:  How are you? <|eot_id|>"},
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
		if got := tmpl.Apply(conversation, c.assistant); got != c.want {
			t.Errorf("%s (assistant %v):\n got %q\nwant %q", c.name, c.assistant, got, c.want)
		}
	}
}

// TestBitnetSingleTurn is the documented 2B-4T prompt (FORMATS.md §7, the
// model card): identical to bitnet.cpp's rendering for a first turn.
func TestBitnetSingleTurn(t *testing.T) {
	tmpl, _ := Named("bitnet")
	got := tmpl.Apply([]Message{{"system", "You are a helpful assistant."}, {"user", "Hey, are you conscious?"}}, true)
	want := "System: You are a helpful assistant.User: Hey, are you conscious?<|eot_id|>Assistant: "
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := tmpl.Apply([]Message{{"tool", "42"}}, false); got != "Tool: 42<|eot_id|>" {
		t.Errorf("other role: %q", got)
	}
}

func TestDetect(t *testing.T) {
	for _, c := range []struct {
		name, tmpl, arch, want string
	}{
		{"by name", "llama3", "", "llama3"},
		{"golden b1.58", "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}", "bitnet-25", "bitnet"},
		{"llama3 instruct", "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}", "llama", "llama3"},
		{"falcon3", "{% for message in messages %}{% if message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] }}{% endif %}{% endfor %}", "llama", "falcon3"},
		{"phi3", "{{'<|user|>' + message['content'] + '<|end|>'}}{{'<|assistant|>'}}", "", "phi3"},
		{"chatml", "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'}}", "", "chatml"},
		{"none, b1.58", "", "bitnet-b1.58", "bitnet"},
		{"none, bitnet-25", "", "bitnet-25", "bitnet"},
		{"unknown, b1.58", "{{ messages }}", "bitnet-b1.58", "bitnet"},
		{"none, llama", "", "llama", "chatml"},
		{"unknown, llama", "{{ messages }}", "llama", "chatml"},
	} {
		if got := Detect(c.tmpl, c.arch).Name(); got != c.want {
			t.Errorf("%s: Detect = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestZeroTemplateIsChatML(t *testing.T) {
	var z Template
	if z.Name() != "chatml" || !slices.Equal(z.Stops(), []string{"<|im_end|>"}) {
		t.Errorf("zero Template: %q %q", z.Name(), z.Stops())
	}
	if got := z.Apply([]Message{{"user", "x"}}, true); got != "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n" {
		t.Errorf("zero Template Apply = %q", got)
	}
	if len(Names()) != 7 {
		t.Errorf("Names() = %q", Names())
	}
}

// TestGoldenTemplate reads tokenizer.chat_template from the golden b1.58
// GGUF written by bitnet.cpp's converter and checks it selects the BitNet
// format.
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
	if got := Detect(tmpl, f.Arch()).Name(); got != "bitnet" {
		t.Errorf("Detect(%q, %q) = %q, want bitnet", tmpl, f.Arch(), got)
	}
}

// TestRenderedPromptTokenizes shows the intended use: the rendered text is
// tokenized with BOS added and special tokens parsed.
func TestRenderedPromptTokenizes(t *testing.T) {
	var tokens []string
	for b := 0; b < 256; b++ {
		tokens = append(tokens, byteAlphabet(byte(b)))
	}
	bos := int32(len(tokens))
	tokens = append(tokens, "<|begin_of_text|>", "<|eot_id|>")
	types := make([]tokenizer.TokenType, len(tokens))
	for i := range types {
		types[i] = tokenizer.TypeNormal
	}
	types[bos], types[bos+1] = tokenizer.TypeControl, tokenizer.TypeControl
	tok, err := tokenizer.New(tokenizer.Vocab{
		Model: tokenizer.ModelBPE, Pre: "llama-bpe", Tokens: tokens, Types: types, Merges: []string{"a b"},
		BOS: bos, EOS: tokenizer.NoToken, EOT: tokenizer.NoToken, EOM: tokenizer.NoToken, UNK: tokenizer.NoToken, PAD: tokenizer.NoToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := Detect("", "bitnet-b1.58")
	ids := tok.Encode(tmpl.Apply([]Message{{"user", "Hi"}}, true), true, true)
	if ids[0] != bos || !slices.Contains(ids, bos+1) || !tok.IsEOG(bos+1) {
		t.Errorf("ids %v: want BOS first and <|eot_id|> as one end-of-generation token", ids)
	}
	if got := tok.Decode(ids); got != "User: HiAssistant: " {
		t.Errorf("Decode = %q", got)
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
