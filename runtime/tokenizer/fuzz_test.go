package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"", " ", "hello world", "naïve café ✓", "日本語", "👨‍👩‍👧‍👦", "a\xffb", "\xe2\x9c", "  \n\n\t x ",
	"I'm 12345 'LL", "<s></s><unk>", "<|eot_id|>", "▁▁", "\x00\x01", "\u0301x",
}

// asDecoded is s as libllama reads it: each invalid UTF-8 byte becomes U+FFFD.
func asDecoded(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// FuzzSPMRoundTrip: byte fallback makes SentencePiece lossless on valid
// UTF-8 except for the space prefix and ▁, which is how spaces are spelled.
// (On invalid UTF-8 libllama cuts characters by their lead byte alone, so a
// stray 0xFF swallows the next three bytes, a following space's ▁ included;
// only the stream property is checked there.)
func FuzzSPMRoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tok := spm512(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, true, false)
		checkStream(t, tok, ids)
		if !utf8.ValidString(s) {
			return
		}
		want := ""
		if s != "" {
			want = " " + strings.ReplaceAll(s, "▁", " ")
		}
		if got := tok.Decode(ids); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q (ids %v)", s, got, want, ids)
		}
	})
}

// FuzzBPERoundTrip: byte-level BPE is lossless on valid UTF-8.
func FuzzBPERoundTrip(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tok := llama3(f)
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s, true, false)
		if got, want := tok.Decode(ids), asDecoded(s); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q (ids %v)", s, got, want, ids)
		}
		checkStream(t, tok, ids)
	})
}

// checkStream checks that streaming decode gives Decode's bytes and never
// emits a broken character when the whole text is valid UTF-8.
func checkStream(t *testing.T, tok *Tokenizer, ids []int32) {
	t.Helper()
	whole := tok.Decode(ids)
	d := tok.NewDecoder()
	var b strings.Builder
	for _, id := range ids {
		s := d.Next(id)
		if utf8.ValidString(whole) && !utf8.ValidString(s) {
			t.Fatalf("Next(%d) = %q: broken UTF-8 in a valid text", id, s)
		}
		b.WriteString(s)
	}
	b.WriteString(d.Flush())
	if b.String() != whole {
		t.Fatalf("streamed %q, Decode gives %q", b.String(), whole)
	}
}
