package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// toySPM is a small SentencePiece vocabulary with every token kind.
func toySPM(t testing.TB, edit func(*Vocab)) *Tokenizer {
	t.Helper()
	v := Vocab{Model: ModelSPM, BOS: 1, EOS: 2, UNK: 0, EOT: NoToken, EOM: NoToken, PAD: NoToken}
	add := func(s string, score float32, typ TokenType) {
		v.Tokens = append(v.Tokens, s)
		v.Scores = append(v.Scores, score)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", 0, TypeUnknown)
	add("<s>", 0, TypeControl)
	add("</s>", 0, TypeControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, TypeByte)
	}
	for _, p := range []struct {
		s     string
		score float32
	}{{"▁", -1}, {"a", -2}, {"b", -2}, {"c", -2}, {"aa", -3}, {"ab", -1.5}, {"bc", -1}, {"abc", -0.5}, {"▁a", -4}, {"▁abc", -0.1}, {"é", -5}} {
		add(p.s, p.score, TypeNormal)
	}
	add("<|user|>", 0, TypeUserDefined)
	add("<|ctl|>", 0, TypeControl)
	add("[unused]", 0, TypeUnused)
	if edit != nil {
		edit(&v)
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ids(t *Tokenizer, pieces ...string) []int32 {
	out := make([]int32, len(pieces))
	for i, p := range pieces {
		id, ok := t.Lookup(p)
		if !ok {
			panic("no token " + p)
		}
		out[i] = id
	}
	return out
}

func TestSPMEncode(t *testing.T) {
	tok := toySPM(t, nil)
	noPrefix := toySPM(t, func(v *Vocab) { v.AddSpacePrefix = ptr(false) })
	withEOS := toySPM(t, func(v *Vocab) { v.AddEOS = ptr(true) })
	for _, c := range []struct {
		name                     string
		tok                      *Tokenizer
		text                     string
		addSpecial, parseSpecial bool
		want                     []string
	}{
		{"empty", tok, "", false, false, nil},
		{"empty with BOS", tok, "", true, false, []string{"<s>"}},
		{"space prefix merges by score", tok, "abc", false, false, []string{"▁abc"}},
		{"BOS", tok, "abc", true, false, []string{"<s>", "▁abc"}},
		{"EOS", withEOS, "abc", true, false, []string{"<s>", "▁abc", "</s>"}},
		{"no prefix", noPrefix, "abc", false, false, []string{"abc"}},
		// bc (-1) beats ab (-1.5); then abc cannot form from a+bc.
		{"best score first", noPrefix, "abcab", false, false, []string{"abc", "ab"}},
		{"leftmost on ties", noPrefix, "aaa", false, false, []string{"aa", "a"}},
		{"spaces are ▁", noPrefix, "a a", false, false, []string{"a", "▁a"}},
		{"byte fallback", noPrefix, "a✓", false, false, []string{"a", "<0xE2>", "<0x9C>", "<0x93>"}},
		{"known multibyte", noPrefix, "é", false, false, []string{"é"}},
		{"invalid UTF-8 as bytes", noPrefix, "a\xff", false, false, []string{"a", "<0xFF>"}},
		{"user-defined always whole", tok, "a<|user|>a", false, false, []string{"▁a", "<|user|>", "▁a"}},
		{"control only when parsing", tok, "<|ctl|>a", false, true, []string{"<|ctl|>", "▁a"}},
		{"control as text", noPrefix, "<s>", false, false, []string{"<0x3C>", "<0x73>", "<0x3E>"}},
		{"BOS text parsed", tok, "<s>a", true, true, []string{"<s>", "<s>", "▁a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.tok.Encode(c.text, c.addSpecial, c.parseSpecial)
			want := ids(c.tok, c.want...)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("Encode(%q) = %v, want %v %q", c.text, got, want, c.want)
			}
		})
	}
}

func TestSPMDecode(t *testing.T) {
	tok := toySPM(t, nil)
	for _, c := range []struct {
		pieces []string
		want   string
		piece  string // Piece of the first token
	}{
		{[]string{"<s>", "▁abc"}, " abc", "<s>"},
		{[]string{"▁a", "<|user|>", "[unused]"}, " a<|user|>", " a"},
		{[]string{"<0xE2>", "<0x9C>", "<0x93>"}, "✓", "\xe2"},
		{[]string{"<unk>", "a"}, "a", "<unk>"},
	} {
		ids := ids(tok, c.pieces...)
		if got := tok.Decode(ids); got != c.want {
			t.Errorf("Decode(%q) = %q, want %q", c.pieces, got, c.want)
		}
		if got := string(tok.Piece(ids[0])); got != c.piece {
			t.Errorf("Piece(%q) = %q, want %q", c.pieces[0], got, c.piece)
		}
	}
	if got := tok.Piece(-1); len(got) != 0 {
		t.Errorf("Piece(-1) = %q", got)
	}
	if got := tok.Decode([]int32{1 << 30}); got != "" {
		t.Errorf("Decode(out of range) = %q", got)
	}
}

func TestDecoderHoldsIncompleteUTF8(t *testing.T) {
	tok := toySPM(t, func(v *Vocab) { v.AddSpacePrefix = ptr(false) })
	steps := []struct {
		piece string
		out   string
	}{
		{"a", "a"},
		{"<0xE2>", ""},
		{"<0x9C>", ""},
		{"<0x93>", "✓"},
		{"<0xF0>", ""},
		{"<0x9F>", ""},
		{"<s>", ""}, // control tokens are invisible and do not flush
		{"<0x98>", ""},
		{"<0x80>", "😀"},
		{"<0xFF>", "\xff"}, // never valid: passed through at once
		{"<0xC3>", ""},
	}
	d := tok.NewDecoder()
	for i, s := range steps {
		id, _ := tok.Lookup(s.piece)
		if got := d.Next(id); got != s.out {
			t.Errorf("step %d (%s): Next = %q, want %q", i, s.piece, got, s.out)
		}
	}
	if got := d.Flush(); got != "\xc3" {
		t.Errorf("Flush = %q, want the held byte", got)
	}
	d.Special = true
	if got := d.Next(1); got != "<s>" {
		t.Errorf("Next(BOS) with Special = %q", got)
	}
}

func TestIncompleteTail(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0}, {"a", 0}, {"\xe2", 1}, {"\xe2\x9c", 2}, {"\xe2\x9c\x93", 0}, {"a\xf0\x9f\x98", 3},
		{"\x80", 0}, {"\xff", 0}, {"\xe2\x41", 0}, {"\xc3", 1}, {"é\xc3", 1},
	} {
		if got := incompleteTail([]byte(c.in)); got != c.want {
			t.Errorf("incompleteTail(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestEndOfGeneration(t *testing.T) {
	tok := toySPM(t, func(v *Vocab) {
		v.Tokens = append(v.Tokens, "<|eot_id|>", "<|im_end|>")
		v.Scores = append(v.Scores, 0, 0)
		v.Types = append(v.Types, TypeNormal, TypeNormal)
	})
	eot, _ := tok.Lookup("<|eot_id|>")
	imEnd, _ := tok.Lookup("<|im_end|>")
	if tok.EOT() != eot {
		t.Errorf("EOT = %d, want %d found by its text", tok.EOT(), eot)
	}
	for _, id := range []int32{2, eot, imEnd} {
		if !tok.IsEOG(id) {
			t.Errorf("IsEOG(%d) = false", id)
		}
		if tok.Type(id) != TypeControl {
			t.Errorf("%q is %d, want control", tok.Token(id), tok.Type(id))
		}
	}
	if tok.IsEOG(1) || tok.IsEOG(NoToken) {
		t.Error("BOS or NoToken is EOG")
	}
}

func TestNewRejects(t *testing.T) {
	base := func() Vocab {
		return Vocab{Model: ModelSPM, Tokens: []string{"<unk>", "a"}, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: 0, PAD: NoToken}
	}
	for _, c := range []struct {
		name string
		edit func(*Vocab)
		want string
	}{
		{"empty", func(v *Vocab) { v.Tokens = nil }, "empty vocabulary"},
		{"scores", func(v *Vocab) { v.Scores = []float32{1} }, "1 scores for 2 tokens"},
		{"types", func(v *Vocab) { v.Types = []TokenType{1, 1, 1} }, "3 token types"},
		{"bos", func(v *Vocab) { v.BOS = 2 }, "BOS id 2 outside"},
		{"model", func(v *Vocab) { v.Model = "t5" }, `unsupported model "t5"`},
		{"pre", func(v *Vocab) { v.Model, v.Pre, v.Merges = ModelBPE, "qwen2", []string{"a a"} }, `unsupported pre-tokenizer "qwen2"`},
		{"merges", func(v *Vocab) { v.Model = ModelBPE }, "without merges"},
	} {
		v := base()
		c.edit(&v)
		if _, err := New(v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := New(base()); err != nil {
		t.Errorf("base vocabulary: %v", err)
	}
}

// toyBPE is a byte-level vocabulary: the 256 byte characters, a few merges
// and a control token.
func toyBPE(t testing.TB, pre string) *Tokenizer {
	t.Helper()
	v := Vocab{Model: ModelBPE, Pre: pre, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: NoToken, PAD: NoToken}
	for b := 0; b < 256; b++ {
		v.Tokens = append(v.Tokens, byteLevelEncode([]byte{byte(b)}))
	}
	for _, m := range [][2]string{{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {" ", "h"}, {"Ġ", "w"}, {"1", "2"}} {
		l, r := byteLevelEncode([]byte(m[0])), byteLevelEncode([]byte(m[1]))
		v.Merges = append(v.Merges, l+" "+r)
		if !slices.Contains(v.Tokens, l+r) {
			v.Tokens = append(v.Tokens, l+r)
		}
	}
	v.Tokens = append(v.Tokens, "<|end|>")
	v.BOS = int32(len(v.Tokens))
	v.Tokens = append(v.Tokens, "<|begin|>")
	v.Types = make([]TokenType, len(v.Tokens))
	for i := range v.Types {
		v.Types[i] = TypeNormal
	}
	v.Types[len(v.Types)-2], v.Types[len(v.Types)-1] = TypeControl, TypeControl
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBPEEncode(t *testing.T) {
	gpt2 := toyBPE(t, "gpt-2")
	llama := toyBPE(t, "llama-bpe")
	for _, c := range []struct {
		name                     string
		tok                      *Tokenizer
		text                     string
		addSpecial, parseSpecial bool
		want                     []string // raw bytes of each token
	}{
		{"merges by rank", gpt2, "hello", false, false, []string{"hello"}},
		{"rank beats position", gpt2, "hello hello", false, false, []string{"hello", " ", "hello"}},
		{"space merge", gpt2, " hx", false, false, []string{" h", "x"}},
		{"bytes", gpt2, "hé", false, false, []string{"h", "\xc3", "\xa9"}},
		{"llama3 adds BOS", llama, "hello", true, false, []string{"<|begin|>", "hello"}},
		{"gpt2 does not", gpt2, "hello", true, false, []string{"hello"}},
		{"control parsed", gpt2, "he<|end|>", false, true, []string{"he", "<|end|>"}},
		{"control as text", gpt2, "<|end|>", false, false, []string{"<", "|", "e", "n", "d", "|", ">"}},
		{"digits grouped", llama, "1212", false, false, []string{"12", "1", "2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.tok.Encode(c.text, c.addSpecial, c.parseSpecial)
			var want []int32
			for _, w := range c.want {
				id, ok := c.tok.Lookup(w)
				if !ok {
					id, ok = c.tok.Lookup(byteLevelEncode([]byte(w)))
				}
				if !ok {
					t.Fatalf("no token %q", w)
				}
				want = append(want, id)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Encode(%q) = %v, want %v", c.text, got, want)
			}
			if !c.parseSpecial {
				if s := c.tok.Decode(got); s != c.text {
					t.Errorf("Decode = %q, want %q", s, c.text)
				}
			}
		})
	}
}

func TestResolvePre(t *testing.T) {
	withBOT := map[string]int32{"<|begin_of_text|>": 5}
	for _, c := range []struct {
		name string
		ids  map[string]int32
		want preChoice
	}{
		{"llama-bpe", nil, preChoice{preLlama3, true, true}},
		{"falcon3", nil, preChoice{kind: preFalcon3}},
		{"falcon_e", nil, preChoice{kind: preFalcon3}},
		{"falcon", nil, preChoice{kind: preFalcon}},
		{"gpt-2", nil, preChoice{kind: preGPT2}},
		{"default", nil, preChoice{kind: preDefault}},
		{"", nil, preChoice{kind: preDefault}},
		{"", withBOT, preChoice{preLlama3, true, true}},
		{"default", withBOT, preChoice{preLlama3, true, true}},
	} {
		got, err := resolvePre(c.name, c.ids)
		if err != nil || got != c.want {
			t.Errorf("resolvePre(%q) = %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
}
