package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// windowPieces are what the window tests build texts from: every class the
// pre-tokenizers tell apart, runs of spaces and newlines (whose words reach
// past a window), digits of every grouping, contractions, punctuation the
// Falcon splits treat alone, and broken UTF-8.
var windowPieces = []string{
	" ", "  ", "   ", "\n", "\n\n", "\r\n", "\t", " \n ", "a", "Ab", "the", " word", "é", "日本", "ß",
	"1", "12", "123", "1234", "½", "²", "'s", "'T", "'ll", "'", "!", "...", "$", "+", "<=>", "`", "|",
	"\xe2\x82", "\xff", "€", "🙂", "-", "_", ",", "x\n\n  y", "l", "'l", "'v", "'r", "'S", "'M", "e", "d",
}

// TestWindowsSplitAsWhole: long text is pre-tokenized a window at a time;
// for every pre-tokenizer and window size the tokens are those of the
// whole text in one piece, with a limit and without.
func TestWindowsSplitAsWhole(t *testing.T) {
	defer func(w int) { bpeWindow = w }(bpeWindow)
	rng := rand.New(rand.NewPCG(1, 2))
	texts := []string{strings.Repeat(" ", 50) + "\n" + strings.Repeat(" ", 50) + "x", strings.Repeat("9", 40), strings.Repeat("!?", 30) + "a"}
	for range 400 {
		var b strings.Builder
		for range 5 + rng.IntN(60) {
			b.WriteString(windowPieces[rng.IntN(len(windowPieces))])
		}
		texts = append(texts, b.String())
	}
	for _, pre := range []preTokenizer{preLlama3, preGPT2, preFalcon, preFalcon3, preDefault} {
		// The Llama 3 vocabulary split another way: the pre-tokenizer is
		// what is tested, and any byte-level vocabulary will do.
		tok, err := New(llama3Vocab(t))
		if err != nil {
			t.Fatal(err)
		}
		tok.pre = pre
		for _, text := range texts {
			bpeWindow = 1 << 30
			want := tok.Encode(text, false, false)
			for _, w := range []int{1, 2, 3, 5, 8, 13, 21, 64} {
				bpeWindow = w
				got, ok := tok.EncodeLimit(text, false, false, 1<<30)
				if !ok || !slices.Equal(got, want) {
					t.Fatalf("pre %d, window %d, %q:\n got %v\nwant %v", pre, w, text, got, want)
				}
				if got := tok.Encode(text, false, false); !slices.Equal(got, want) {
					t.Fatalf("pre %d, window %d, %q: Encode\n got %v\nwant %v", pre, w, text, got, want)
				}
			}
		}
	}
}

// FuzzWindowsSplitAsWhole: TestWindowsSplitAsWhole on any text and window.
func FuzzWindowsSplitAsWhole(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i))
	}
	f.Add("a'll  \n\n  b'l", uint8(3))
	var toks []*Tokenizer
	for _, pre := range []preTokenizer{preLlama3, preGPT2, preFalcon, preFalcon3, preDefault} {
		tok, err := New(llama3Vocab(f))
		if err != nil {
			f.Fatal(err)
		}
		tok.pre = pre
		toks = append(toks, tok)
	}
	defer func(w int) { bpeWindow = w }(bpeWindow)
	f.Fuzz(func(t *testing.T, text string, w uint8) {
		for _, tok := range toks {
			bpeWindow = 1 << 30
			want := tok.Encode(text, false, false)
			bpeWindow = int(w%64) + 1
			if got, ok := tok.EncodeLimit(text, false, false, 1<<30); !ok || !slices.Equal(got, want) {
				t.Fatalf("pre %d, window %d, %q:\n got %v\nwant %v", tok.pre, bpeWindow, text, got, want)
			}
			if got := tok.Encode(text, false, false); !slices.Equal(got, want) {
				t.Fatalf("pre %d, window %d, %q: Encode\n got %v\nwant %v", tok.pre, bpeWindow, text, got, want)
			}
		}
	})
}

// TestWindowsOnRealText: the corpus of real-world strings (code, prose in
// many scripts, numbers, whitespace art) joined into texts longer than a
// window tokenizes as in one piece at the default window and at small ones.
func TestWindowsOnRealText(t *testing.T) {
	defer func(w int) { bpeWindow = w }(bpeWindow)
	tok := llama3(t)
	var parts []string
	for _, c := range readCorpus(t) {
		parts = append(parts, c.Text)
	}
	for _, sep := range []string{"", "\n", " ", "\n\n  \t"} {
		text := strings.Repeat(strings.Join(parts, sep), 4)
		if len(text) < 3*16<<10 {
			t.Fatalf("the corpus gives %d bytes, not enough for several default windows", len(text))
		}
		bpeWindow = 1 << 30
		want := tok.Encode(text, true, true)
		for _, w := range []int{16 << 10, 1000, 97} {
			bpeWindow = w
			if got := tok.Encode(text, true, true); !slices.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("separator %q, %d bytes, window %d: tokens differ from %d on (%d against %d tokens)", sep, len(text), w, i, len(got), len(want))
			}
		}
	}
}
