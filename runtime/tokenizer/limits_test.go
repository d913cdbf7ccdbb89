package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

// TestMaxTokenBytesBoundsTokens: no text of n bytes encodes to fewer than
// n/MaxTokenBytes tokens, the bound the server relies on to refuse
// prompts before tokenizing them.
func TestMaxTokenBytesBoundsTokens(t *testing.T) {
	tok := spm512(t)
	m := tok.MaxTokenBytes()
	if m <= 0 {
		t.Fatalf("MaxTokenBytes = %d", m)
	}
	for _, text := range []string{
		strings.Repeat("the ", 500),
		strings.Repeat("a", 3000),
		strings.Repeat("日本語のテキスト ", 200),
		strings.Repeat("\n\n  \t", 300),
	} {
		ids := tok.Encode(text, false, false)
		if len(ids)*m < len(text) {
			t.Errorf("%d bytes gave %d tokens, fewer than %d/%d", len(text), len(ids), len(text), m)
		}
	}
}

// TestHugeScratchNotPooled: the buffers of a huge text are not kept for
// later calls (a sync.Pool may drop anything, so only keeping is checked).
func TestHugeScratchNotPooled(t *testing.T) {
	big := new(scratch)
	big.cp.r = make([]rune, 0, maxPooledRunes+1)
	putScratch(big)
	for range 1000 {
		sc, _ := scratchPool.Get().(*scratch)
		if sc == nil {
			break
		}
		if sc == big {
			t.Fatal("a scratch of more than maxPooledRunes runes went back to the pool")
		}
	}
}

// TestEncodeLimit: under the limit EncodeLimit is Encode; past it, it says
// so and returns a prefix of Encode's tokens that is longer than the limit
// but stops within a word of it (BPE), whatever the rest of the text.
func TestEncodeLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		tok  *Tokenizer
		// maxWord bounds the tokens one pre-tokenized word (BPE) or one
		// fragment (SPM) can add past the limit.
		maxWord func(text string) int
	}{
		{"llama3", llama3(t), func(string) int { return 16 }},
		{"spm", spm512(t), func(text string) int { return len(text) + 2 }},
	} {
		for _, text := range []string{"", "hello", benchText, "<|eot_id|>" + benchText + "<|eot_id|>x"} {
			full := tc.tok.Encode(text, true, true)
			for _, limit := range []int{0, 1, 5, len(full) / 2, len(full) - 1, len(full), len(full) + 1} {
				ids, ok := tc.tok.EncodeLimit(text, true, true, limit)
				if ok != (len(full) <= limit) {
					t.Errorf("%s %d bytes, limit %d of %d tokens: ok %v", tc.name, len(text), limit, len(full), ok)
				}
				if ok && !slices.Equal(ids, full) {
					t.Errorf("%s %d bytes, limit %d: %d tokens, Encode gives %d", tc.name, len(text), limit, len(ids), len(full))
				}
				if !ok && (len(ids) <= limit || !slices.Equal(ids, full[:len(ids)]) || len(ids) > limit+tc.maxWord(text)) {
					t.Errorf("%s %d bytes, limit %d: over the limit with %d tokens, not a prefix of Encode's %d just past the limit",
						tc.name, len(text), limit, len(ids), len(full))
				}
			}
		}
	}
	// The point: a long text costs about the limit's worth of work.
	long := strings.Repeat(benchText, 200)
	ids, ok := llama3(t).EncodeLimit(long, true, false, 100)
	if ok || len(ids) > 116 {
		t.Errorf("%d bytes with limit 100: ok %v, %d tokens", len(long), ok, len(ids))
	}
}
