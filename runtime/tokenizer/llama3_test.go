package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// readLines reads a gzip'ed file of newline-terminated lines.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}

var (
	llama3Once sync.Once
	llama3Tok  *Tokenizer
	llama3Err  error
)

// llama3Vocab is the real Llama-3 vocabulary (testdata/README.md) as the
// GGUF converters write it: 128000 normal tokens, 256 control tokens.
func llama3Vocab(t testing.TB) Vocab {
	tokens := readLines(t, filepath.Join("testdata", "llama3-vocab.txt.gz"))
	merges := readLines(t, filepath.Join("testdata", "llama3-merges.txt.gz"))
	types := make([]TokenType, len(tokens))
	for i := range types {
		types[i] = TypeNormal
		if i >= 128000 {
			types[i] = TypeControl
		}
	}
	return Vocab{
		Model: ModelBPE, Pre: "llama-bpe", Tokens: tokens, Types: types, Merges: merges,
		BOS: 128000, EOS: 128001, EOT: 128009, EOM: NoToken, UNK: NoToken, PAD: NoToken,
	}
}

func llama3(t testing.TB) *Tokenizer {
	t.Helper()
	llama3Once.Do(func() { llama3Tok, llama3Err = New(llama3Vocab(t)) })
	if llama3Err != nil {
		t.Fatal(llama3Err)
	}
	return llama3Tok
}

type corpusCase struct {
	Text    string  `json:"text"`
	IDs     []int32 `json:"ids"`      // special tokens parsed
	IDsText []int32 `json:"ids_text"` // special tokens left as text
}

func readCorpus(t testing.TB) []corpusCase {
	raw, err := os.ReadFile(filepath.Join("testdata", "llama3-corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Cases []corpusCase }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Cases
}

// TestLlama3Corpus compares Encode with the reference Llama-3 tokenizer
// (llama3-tokenizer-js, which reproduces Hugging Face tokenizers' output)
// on hand-written and random strings, with and without special-token
// parsing, and checks that decoding gives the text back.
func TestLlama3Corpus(t *testing.T) {
	tok := llama3(t)
	cases := readCorpus(t)
	var matched, matchedText int
	for i, c := range cases {
		got := tok.Encode(c.Text, false, true)
		if slices.Equal(got, c.IDs) {
			matched++
		} else {
			t.Errorf("case %d %q (special):\n got %v\nwant %v", i, c.Text, got, c.IDs)
		}
		got = tok.Encode(c.Text, false, false)
		if slices.Equal(got, c.IDsText) {
			matchedText++
		} else {
			t.Errorf("case %d %q (text):\n got %v\nwant %v", i, c.Text, got, c.IDsText)
		}
		if s := tok.Decode(got); s != c.Text {
			t.Errorf("case %d: Decode(Encode(%q)) = %q", i, c.Text, s)
		}
	}
	t.Logf("%d/%d corpus strings match with special tokens parsed, %d/%d as plain text", matched, len(cases), matchedText, len(cases))
}

func TestLlama3Specials(t *testing.T) {
	tok := llama3(t)
	for _, c := range []struct {
		name string
		got  any
		want any
	}{
		{"vocab size", tok.NumTokens(), 128256},
		{"BOS text", tok.Token(tok.BOS()), "<|begin_of_text|>"},
		{"EOT text", tok.Token(tok.EOT()), "<|eot_id|>"},
		{"EOG", tok.EOG(), []int32{128001, 128008, 128009}},
		{"adds BOS", tok.AddBOS(), true},
		{"with BOS", tok.Encode("Hi", true, false), []int32{128000, 13347}},
		{"eot parsed", tok.Encode("<|eot_id|>", false, true), []int32{128009}},
		{"piece of eot", string(tok.Piece(128009)), "<|eot_id|>"},
		{"eot hidden in Decode", tok.Decode([]int32{128000, 13347, 128009}), "Hi"},
	} {
		if !equalAny(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func equalAny(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestLlama3StreamSplitsUTF8 decodes text whose characters span several
// byte-level tokens one token at a time.
func TestLlama3StreamSplitsUTF8(t *testing.T) {
	tok := llama3(t)
	for _, text := range []string{"👨‍👩‍👧‍👦 family 🇯🇵", "日本語のテキスト", "naïve ✓ ❤️", strings.Repeat("𝔘𝔫𝔦", 5)} {
		ids := tok.Encode(text, true, false)
		d := tok.NewDecoder()
		var b strings.Builder
		for _, id := range ids {
			s := d.Next(id)
			if !utf8Valid(s) {
				t.Errorf("%q: Next returned invalid UTF-8 %q", text, s)
			}
			b.WriteString(s)
		}
		b.WriteString(d.Flush())
		if b.String() != text {
			t.Errorf("streamed %q, want %q", b.String(), text)
		}
	}
}

// TestConcurrentEncode exercises the pooled scratch from several goroutines
// (run with -race).
func TestConcurrentEncode(t *testing.T) {
	tok := llama3(t)
	cases := readCorpus(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(cases); i += 4 {
				if got := tok.Encode(cases[i].Text, false, true); !slices.Equal(got, cases[i].IDs) {
					t.Errorf("case %d differs under concurrency", i)
				}
			}
		}()
	}
	wg.Wait()
}
