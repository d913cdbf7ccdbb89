package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Byte-level BPE as libllama's llm_tokenizer_bpe_session does it: split the
// text into words, spell each word's bytes in GPT-2's alphabet, then merge
// the adjacent pair with the best (lowest) merge rank, leftmost on ties,
// until no rule applies. Symbols carry token ids, so a rule is one map
// lookup on a pair of ids instead of on concatenated strings.

type bpeBigram struct {
	rank            int32
	left, right     int32
	leftID, rightID int32
	result          int32
}

// bpeQueue is a min-heap of bigrams: lower rank first, then lower left.
type bpeQueue []bpeBigram

func (q bpeQueue) before(i, j int) bool {
	return q[i].rank < q[j].rank || (q[i].rank == q[j].rank && q[i].left < q[j].left)
}

func (q *bpeQueue) push(b bpeBigram) {
	*q = append(*q, b)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.before(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *bpeQueue) pop() bpeBigram {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h.before(l, m) {
			m = l
		}
		if r < len(h) && h.before(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}

// initBPE indexes the vocabulary by raw bytes and compiles the merge rules.
// A rule whose parts or result are not tokens can never produce a token and
// is dropped (libllama would merge the strings and then emit nothing useful).
func (t *Tokenizer) initBPE(merges []string) error {
	if len(merges) == 0 {
		return fmt.Errorf("tokenizer: BPE vocabulary without merges")
	}
	t.rawIDs = make(map[string]int32, len(t.tokens))
	var buf []byte
	for i, s := range t.tokens {
		var ok bool
		buf, ok = byteLevelDecode(buf[:0], s)
		if ok {
			t.rawIDs[string(buf)] = int32(i)
		}
	}
	for b := 0; b < 256; b++ {
		id, ok := t.rawIDs[string([]byte{byte(b)})]
		if !ok {
			id = NoToken
		}
		t.byteSym[b] = id
	}
	t.mergeMap = make(map[uint64]merge, len(merges))
	for rank, m := range merges {
		sp := strings.IndexByte(m[min(1, len(m)):], ' ') // libllama: find(' ', 1)
		if sp < 0 {
			continue
		}
		sp += min(1, len(m))
		left, lok := t.ids[m[:sp]]
		right, rok := t.ids[m[sp+1:]]
		result, ok := t.ids[m[:sp]+m[sp+1:]]
		if !lok || !rok || !ok {
			continue
		}
		k := mergeKey(left, right)
		if _, dup := t.mergeMap[k]; !dup {
			t.mergeMap[k] = merge{rank: int32(rank), result: result}
		}
	}
	return nil
}

// bpeWindow is the bytes of text pre-tokenized at once (a variable for
// the tests, which shrink it to a few bytes).
var bpeWindow = 16 << 10

// encodeBPE tokenizes one fragment of plain text, stopping after the word
// that takes out past limit tokens (negative: no limit). A long fragment
// is pre-tokenized a window at a time, so that its scratch is a window's
// whatever the text's length (a megabyte of text would otherwise take 36
// MB of code points and spans), and refusing a long prompt costs the work
// of a limit's worth of words; the words are the same as in one piece
// (see stableWords).
func (t *Tokenizer) encodeBPE(text string, sc *scratch, out []int32, limit int) []int32 {
	window := bpeWindow
	for text != "" {
		last := len(text) <= window
		chunk := text
		if !last {
			chunk = text[:runeCut(text, window)]
		}
		decodeCodepoints(chunk, &sc.cp)
		if n := len(sc.cp.r); cap(sc.spansA) < n {
			sc.spansA, sc.spansB = make([]span, 0, n), make([]span, 0, n)
		}
		words := t.pre.split(&sc.cp, sc.spansA, sc.spansB)
		if !last {
			words = words[:stableWords(&sc.cp, words)]
			if len(words) == 0 {
				window *= 2 // one word (a run of letters, spaces …) fills the window
				continue
			}
		}
		for _, w := range words {
			word := sc.word[:0]
			for _, r := range sc.cp.r[w.lo:w.hi] {
				word = utf8.AppendRune(word, r)
			}
			sc.word = word
			out = t.encodeWord(word, sc, out)
			if limit >= 0 && len(out) > limit {
				return out
			}
		}
		if last {
			break
		}
		text = text[byteOffset(chunk, words[len(words)-1].hi):]
	}
	return out
}

// stableWords is how many leading words of a window, cut from a longer
// text, are the words the whole text gives there. Which pattern matches at
// a word's start is decided within its first three characters (the
// longest fixed alternative is a contraction: 'll, 've, 're; a window
// holding only "'l" would match "'" alone), and where a match ends that
// holds a non-space character, by the first character that cannot extend
// it. So a word with a non-space character and two more characters after
// it in the window is settled, and so is everything before it. A word of
// spaces alone is not: "\s*[\r\n]+" reaches the last newline of the
// whole run of spaces, which may go on past the window.
// TestWindowsSplitAsWhole fails with one character of margin instead of two.
func stableWords(cp *codepoints, words []span) int {
	for k := len(words); k > 0; k-- {
		w := words[k-1]
		if w.hi >= len(cp.r)-1 {
			continue
		}
		for _, c := range cp.class[w.lo:w.hi] {
			if c&cpSpace == 0 {
				return k
			}
		}
	}
	return 0
}

// runeCut is where to cut text near n so that both sides decode as the
// whole text decodes: the last UTF-8 sequence start at or up to three bytes
// before n, else n itself (those bytes are invalid, one U+FFFD each, in the
// whole text too). n must be less than len(text).
func runeCut(text string, n int) int {
	for i := n; i >= max(n-utf8.UTFMax+1, 0); i-- {
		if utf8.RuneStart(text[i]) {
			return i
		}
	}
	return n
}

// byteOffset is the offset in text of its n-th codepoint as
// decodeCodepoints counts them (an invalid byte is one).
func byteOffset(text string, n int) int {
	off := 0
	for range n {
		_, size := utf8.DecodeRuneInString(text[off:])
		off += size
	}
	return off
}

func (t *Tokenizer) encodeWord(word []byte, sc *scratch, out []int32) []int32 {
	if t.ignoreMerges {
		if id, ok := t.rawIDs[string(word)]; ok {
			return append(out, id)
		}
	}
	syms := sc.syms[:0]
	for i, b := range word {
		syms = append(syms, symbol{start: int32(i), n: 1, prev: int32(i) - 1, next: int32(i) + 1, id: t.byteSym[b]})
	}
	syms[len(syms)-1].next = -1

	q := sc.bpeQueue[:0]
	tryAdd := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		l, r := syms[left].id, syms[right].id
		if l == NoToken || r == NoToken {
			return
		}
		if m, ok := t.mergeMap[mergeKey(l, r)]; ok {
			q.push(bpeBigram{rank: m.rank, left: left, right: right, leftID: l, rightID: r, result: m.result})
		}
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryAdd(i-1, i)
	}
	for len(q) > 0 {
		b := q.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.id != b.leftID || r.id != b.rightID || l.next != b.right {
			continue // outdated: one side has merged since
		}
		l.id = b.result
		l.n += r.n
		r.n = 0
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = b.left
		}
		tryAdd(l.prev, b.left)
		tryAdd(b.left, l.next)
	}

	for i := int32(0); i != -1; i = syms[i].next {
		if id := syms[i].id; id != NoToken {
			out = append(out, id)
			continue
		}
		// Only a byte whose alphabet character is missing from the
		// vocabulary gets here; libllama then looks the raw byte up.
		if id, ok := t.ids[string(word[syms[i].start:syms[i].start+syms[i].n])]; ok {
			out = append(out, id)
		}
	}
	sc.syms, sc.bpeQueue = syms, q
	return out
}
