package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime/chat"
)

// falcon3Dummy writes a falcon3-1B dummy shrunk to one small layer, which
// keeps the layout's built-in Falcon3 tokenizer.
func falcon3Dummy(t *testing.T) string {
	t.Helper()
	l, err := convert.LookupLayout("falcon3-1B")
	if err != nil {
		t.Fatal(err)
	}
	l.Hidden, l.FFN, l.Layers, l.Heads, l.KVHeads, l.Vocab, l.Context = 512, 512, 1, 2, 1, 512, 64
	path := filepath.Join(t.TempDir(), "falcon3.gguf")
	if err := convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: &l, Type: gguf.I2_S, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return path
}

// falcon3EdgeCases are texts the Falcon3 tokenizer must give back byte for
// byte: unicode, whitespace runs, digits, punctuation, contractions,
// special-token texts.
var falcon3EdgeCases = []string{
	"", " ", "In 2024, 3.14+x!", "don't  stop...now", "a+=b <=> c|d~e`f^g$h", "I'm sure they'll say it's fine",
	"Café naïve résumé ½ ² ³ Ⅻ", "你好，世界！", "в Москве 2024 года", "Emoji: 😀👍🏽 and ❤️",
	"tabs\tand\nnewlines\r\nmixed", "   leading and trailing   ", "a\n\n\n  b", "1234567890 0.5 -7 1e10",
	"<|user|>\nHi\n<|assistant|>\n", ">>TITLE<<Hello>>ABSTRACT<<", "x\u00a0y\u3000z\u2028w",
}

// TestFalcon3DummyTokenizer: a falcon3-* dummy GGUF tokenizes as Falcon3
// does (numbers into single digits, punctuation runs apart from words and
// spaces), gives every edge case back byte for byte, knows Falcon's special
// tokens, and chats in the falcon3 format.
func TestFalcon3DummyTokenizer(t *testing.T) {
	model := falcon3Dummy(t)
	tok := modelTokenizer(t, model)

	// Pieces never cross the falcon3 pre-tokenizer's word boundaries.
	for _, c := range []struct {
		text  string
		words []string
	}{
		{"In 2024, 3.14+x!", []string{"In", " ", "2", "0", "2", "4", ",", " ", "3", ".", "1", "4", "+", "x", "!"}},
		{"don't  stop...now", []string{"don", "'", "t", " ", " stop", "...", "now"}},
		{"a+=b <=> c|d~e", []string{"a", "+=", "b", " ", "<=>", " c", "|", "d", "~", "e"}},
	} {
		out, _, err := runCLIInput(t, "", "tokenize", "-m", model, "-p", c.text, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			IDs    []int32  `json:"ids"`
			Pieces []string `json:"pieces"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %q", err, out)
		}
		if strings.Join(got.Pieces, "") != c.text {
			t.Errorf("%q: pieces %q (a BOS, or lost bytes?)", c.text, got.Pieces)
			continue
		}
		cuts := map[int]bool{}
		n := 0
		for _, p := range got.Pieces {
			n += len(p)
			cuts[n] = true
		}
		n = 0
		for _, w := range c.words {
			n += len(w)
			if !cuts[n] {
				t.Errorf("%q: pieces %q join across the end of word %q", c.text, got.Pieces, w)
			}
		}
	}
	if ids := tok.Encode("2024", false, false); len(ids) != 4 {
		t.Errorf("2024: %d tokens, want 4 single digits", len(ids))
	}

	for _, text := range falcon3EdgeCases {
		if got := tok.Decode(tok.Encode(text, false, false)); got != text {
			t.Errorf("round trip of %q gives %q", text, got)
		}
	}
	if ids := tok.Encode(">>TITLE<<", false, true); len(ids) != 1 {
		t.Errorf(">>TITLE<<: ids %v, want one special token", ids)
	}
	eot, ok := tok.Lookup("<|endoftext|>")
	if !ok || tok.BOS() != eot || tok.EOS() != eot || !tok.IsEOG(eot) || tok.AddBOS() {
		t.Errorf("<|endoftext|> %d (%v): BOS %d, EOS %d, EOG %v, adds BOS %v", eot, ok, tok.BOS(), tok.EOS(), tok.EOG(), tok.AddBOS())
	}

	// The model's template is the falcon3 format, stops included.
	falcon3, _ := chat.Named("falcon3")
	if tok.ChatTemplate() != falcon3.Source() {
		t.Errorf("chat template %q, want falcon3's %q", tok.ChatTemplate(), falcon3.Source())
	}
	msgs := `[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"}]`
	render := func(args ...string) string {
		out, _, err := runCLIInput(t, msgs, append([]string{"tokenize", "-m", model, "--chat", "-", "--json"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v in %q", err, out)
		}
		return got.Text
	}
	want := "<|system|>\nBe brief.\n<|user|>\nWhat is 2+2?\n<|assistant|>\n"
	if got := render(); got != want {
		t.Errorf("chat: %q, want %q", got, want)
	}
	if got := render("--chat-template", "falcon3"); got != want {
		t.Errorf("chat with --chat-template falcon3: %q, want %q", got, want)
	}
	parsed, err := chat.ForModel(tok.ChatTemplate(), "llama", model)
	if err != nil || !slices.Equal(parsed.Stops(), falcon3.Stops()) {
		t.Errorf("stops %q, want falcon3's %q (%v)", parsed.Stops(), falcon3.Stops(), err)
	}
}
