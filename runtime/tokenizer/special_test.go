package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// partitionReference is libllama's tokenizer_st_partition written
// plainly: for each candidate, longest first, split every text fragment
// at each occurrence.
func partitionReference(t *Tokenizer, text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: NoToken}}
	for _, id := range t.special {
		if !parseSpecial && (t.types[id] == TypeControl || t.types[id] == TypeUnknown) {
			continue
		}
		tok := t.tokens[id]
		var next []fragment
		for _, fr := range frags {
			if fr.id != NoToken {
				next = append(next, fr)
				continue
			}
			s := fr.text
			for {
				i := strings.Index(s, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{text: s[:i], id: NoToken})
				}
				next = append(next, fragment{id: id})
				s = s[i+len(tok):]
			}
			if s != "" {
				next = append(next, fragment{text: s, id: NoToken})
			}
		}
		frags = next
	}
	return frags
}

// overlapping has special tokens that overlap, nest and repeat.
func overlapping(t testing.TB) *Tokenizer {
	v := Vocab{Model: ModelSPM, BOS: NoToken, EOS: NoToken, EOT: NoToken, EOM: NoToken, UNK: 0, PAD: NoToken}
	add := func(s string, typ TokenType) {
		v.Tokens = append(v.Tokens, s)
		v.Types = append(v.Types, typ)
	}
	add("<unk>", TypeUnknown)
	for _, s := range []string{"a", "b", "<", ">", "|", "x"} {
		add(s, TypeNormal)
	}
	for _, s := range []string{"<a>", "<a><b>", "aa", "|", "<|x|>", "x|>", "b"} {
		add(s, TypeControl)
	}
	add("ab", TypeUserDefined)
	add("<|x", TypeUserDefined)
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPartitionTable(t *testing.T) {
	tok := overlapping(t)
	for _, c := range []struct {
		text  string
		parse bool
		want  []string // special tokens as [tok], text as is
	}{
		{"<a><b>", true, []string{"[<a><b>]"}},
		{"<a><a><b>", true, []string{"[<a>]", "[<a><b>]"}},
		{"aaa", true, []string{"[aa]", "a"}},
		{"<|x|>", true, []string{"[<|x|>]"}},
		{"<|x|>", false, []string{"[<|x]", "|>"}},
		{"zabz", false, []string{"z", "[ab]", "z"}},
		{"<unk>", true, []string{"[<unk>]"}},
		{"<unk>", false, []string{"<unk>"}},
	} {
		var got []string
		for _, f := range tok.partition(c.text, c.parse) {
			if f.id != NoToken {
				got = append(got, "["+tok.tokens[f.id]+"]")
			} else {
				got = append(got, f.text)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("partition(%q, %v) = %q, want %q", c.text, c.parse, got, c.want)
		}
	}
}

func FuzzPartition(f *testing.F) {
	for _, s := range []string{"", "<a><b>aab<|x|>x|>", "aaaa<a><a><b>b", "|||<|x", "ab<unk>ba"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	tok := overlapping(f)
	f.Fuzz(func(t *testing.T, text string, parse bool) {
		got := tok.partition(text, parse)
		want := partitionReference(tok, text, parse)
		if !slices.Equal(got, want) {
			t.Fatalf("partition(%q, %v) = %v, reference %v", text, parse, got, want)
		}
	})
}
