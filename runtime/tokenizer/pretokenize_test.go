package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func splitWords(p preTokenizer, text string) []string {
	var cp codepoints
	decodeCodepoints(text, &cp)
	var words []string
	for _, w := range p.split(&cp, nil, nil) {
		words = append(words, string(cp.r[w.lo:w.hi]))
	}
	return words
}

// TestPreTokenizersMatchRegex compares the hand-written splitters with the
// patterns run by a real regex engine (JavaScript's, testdata/splits.mjs)
// over the corpus.
func TestPreTokenizersMatchRegex(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "pretokenize-splits.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		Cases []map[string]any
	}
	if err := json.NewDecoder(zr).Decode(&data); err != nil {
		t.Fatal(err)
	}
	chains := []struct {
		name string
		pre  preTokenizer
	}{{"llama3", preLlama3}, {"gpt2", preGPT2}, {"falcon3", preFalcon3}, {"falcon", preFalcon}, {"default", preDefault}}
	for _, ch := range chains {
		matched := 0
		for i, c := range data.Cases {
			text := c["text"].(string)
			var want []string
			for _, w := range c[ch.name].([]any) {
				want = append(want, w.(string))
			}
			got := splitWords(ch.pre, text)
			if slices.Equal(got, want) {
				matched++
			} else {
				t.Errorf("%s case %d %q:\n got %q\nwant %q", ch.name, i, text, got, want)
			}
		}
		t.Logf("%s: %d/%d texts split as the regex does", ch.name, matched, len(data.Cases))
	}
}

func TestPreTokenizerTable(t *testing.T) {
	for _, c := range []struct {
		pre  preTokenizer
		text string
		want []string
	}{
		{preLlama3, "Hello world", []string{"Hello", " world"}},
		{preLlama3, "I'M here", []string{"I", "'M", " here"}},
		{preLlama3, "12345", []string{"123", "45"}},
		{preLlama3, "a  \n\n b", []string{"a", "  \n\n", " b"}},
		{preLlama3, "x   y", []string{"x", "  ", " y"}},
		{preLlama3, "end  ", []string{"end", "  "}},
		{preLlama3, "!!\n\nok", []string{"!!\n\n", "ok"}},
		{preGPT2, "I'M here", []string{"I", "'", "M", " here"}},
		{preGPT2, "abc 12345", []string{"abc", " 12345"}},
		{preFalcon3, "Hi, 2024!", []string{"Hi", ",", " ", "2", "0", "2", "4", "!"}},
		{preFalcon, "x 12345", []string{"x", " ", "123", "45"}},
		{preDefault, "x 1234567", []string{"x", " ", "123", "456", "7"}},
		{preLlama3, "bad\xffbyte", []string{"bad", "\uFFFDbyte"}}, // an invalid byte is U+FFFD, a symbol
	} {
		if got := splitWords(c.pre, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%d %q: got %q, want %q", c.pre, c.text, got, c.want)
		}
	}
}
