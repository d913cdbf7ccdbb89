package tokenizer

import "fmt"

// SentencePiece encoding as libllama's llm_tokenizer_spm_session does it:
// start from single characters, repeatedly merge the adjacent pair whose
// concatenation is the highest-scoring token (leftmost on ties), and spell
// what never became a token with byte tokens.

// symbol is a run of input bytes [start, start+n) in a doubly linked list;
// n == 0 marks a symbol merged into its left neighbour.
type symbol struct {
	start, n   int32
	prev, next int32
	id         int32 // BPE only: the token this symbol currently is
}

type spmBigram struct {
	score       float32
	left, right int32
	size        int32
}

// spmQueue is a max-heap of bigrams: higher score first, then lower left.
type spmQueue []spmBigram

func (q spmQueue) before(i, j int) bool {
	return q[i].score > q[j].score || (q[i].score == q[j].score && q[i].left < q[j].left)
}

func (q *spmQueue) push(b spmBigram) {
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

func (q *spmQueue) pop() spmBigram {
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

// utf8Len is libllama's unicode_len_utf8: the sequence length announced by
// a lead byte, 1 for ASCII and stray continuation bytes.
func utf8Len(b byte) int32 {
	return [16]int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}[b>>4]
}

func (t *Tokenizer) initSPM() {
	for b := 0; b < 256; b++ {
		id, ok := t.ids[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id, ok = t.ids[string([]byte{byte(b)})]
		}
		if !ok {
			id = t.unk // libllama would abort here; unknown is the gentler answer
		}
		t.byteFallback[b] = id
	}
}

// encodeSPM tokenizes text whose spaces are already written as ▁.
func (t *Tokenizer) encodeSPM(text string, sc *scratch, out []int32) []int32 {
	if text == "" {
		return out
	}
	syms := sc.syms[:0]
	for off := int32(0); off < int32(len(text)); {
		n := min(utf8Len(text[off]), int32(len(text))-off)
		i := int32(len(syms))
		syms = append(syms, symbol{start: off, n: n, prev: i - 1, next: i + 1})
		off += n
	}
	syms[len(syms)-1].next = -1

	q := sc.spmQueue[:0]
	tryAdd := func(left, right int32) {
		if left < 0 || right < 0 {
			return
		}
		l, r := syms[left], syms[right]
		s := text[l.start : r.start+r.n]
		id, ok := t.ids[s]
		if !ok {
			return
		}
		var score float32
		if t.scores != nil {
			score = t.scores[id]
		}
		q.push(spmBigram{score: score, left: left, right: right, size: int32(len(s))})
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		tryAdd(i-1, i)
	}
	for len(q) > 0 {
		b := q.pop()
		l, r := &syms[b.left], &syms[b.right]
		if l.n == 0 || r.n == 0 || l.n+r.n != b.size {
			continue // one side changed since this pair was queued
		}
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
		s := text[syms[i].start : syms[i].start+syms[i].n]
		if id, ok := t.ids[s]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(s); j++ {
			if id := t.byteFallback[s[j]]; id != NoToken {
				out = append(out, id)
			}
		}
	}
	sc.syms, sc.spmQueue = syms, q
	return out
}
