package tokenizer

import (
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
