package tokenizer

import (
	"cmp"
	"slices"
	"strings"
)

// fragment is either raw text (id == NoToken) or one special token.
type fragment struct {
	text string
	id   int32
}

// specialIndex finds special-token occurrences in one pass over the text:
// candidates are looked up by their first two bytes (tokens of one byte by
// their byte), so text without special-looking bytes costs one scan.
type specialIndex struct {
	first  [256]bool
	single [256][]int32
	pairs  map[uint16][]int32
	rank   map[int32]int32 // position in Tokenizer.special (priority)
}

func (t *Tokenizer) indexSpecial() {
	ix := &t.specialIx
	ix.pairs = make(map[uint16][]int32)
	ix.rank = make(map[int32]int32, len(t.special))
	for r, id := range t.special {
		s := t.tokens[id]
		ix.rank[id] = int32(r)
		ix.first[s[0]] = true
		if len(s) == 1 {
			ix.single[s[0]] = append(ix.single[s[0]], id)
			continue
		}
		k := uint16(s[0])<<8 | uint16(s[1])
		ix.pairs[k] = append(ix.pairs[k], id)
	}
}

type occurrence struct {
	pos  int
	rank int32
	id   int32
}

// partition cuts special tokens out of text with the result of libllama's
// tokenizer_st_partition: candidates taken one at a time, longest first,
// each splitting every remaining text fragment at all its (non-overlapping,
// leftmost-first) occurrences, so a longer token wins wherever two overlap.
// Control and unknown tokens take part only when parseSpecial is set.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	ix := &t.specialIx
	var occ []occurrence
	add := func(pos int, ids []int32) {
		for _, id := range ids {
			if !parseSpecial && (t.types[id] == TypeControl || t.types[id] == TypeUnknown) {
				continue
			}
			if strings.HasPrefix(text[pos:], t.tokens[id]) {
				occ = append(occ, occurrence{pos, ix.rank[id], id})
			}
		}
	}
	for i := 0; i < len(text); i++ {
		if !ix.first[text[i]] {
			continue
		}
		add(i, ix.single[text[i]])
		if i+1 < len(text) {
			add(i, ix.pairs[uint16(text[i])<<8|uint16(text[i+1])])
		}
	}
	if len(occ) == 0 {
		return []fragment{{text: text, id: NoToken}}
	}

	// Replay the candidates in priority order; an occurrence is taken when
	// it lies in text no earlier token claimed and after this token's
	// previous match.
	slices.SortFunc(occ, func(a, b occurrence) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.pos, b.pos))
	})
	claimed := make([]bool, len(text))
	taken := occ[:0]
	lastID, lastEnd := NoToken, 0
	for _, o := range occ {
		end := o.pos + len(t.tokens[o.id])
		if o.id != lastID {
			lastID, lastEnd = o.id, 0
		}
		if o.pos < lastEnd || slices.Contains(claimed[o.pos:end], true) {
			continue
		}
		for i := o.pos; i < end; i++ {
			claimed[i] = true
		}
		lastEnd = end
		taken = append(taken, o)
	}

	slices.SortFunc(taken, func(a, b occurrence) int { return cmp.Compare(a.pos, b.pos) })
	frags := make([]fragment, 0, 2*len(taken)+1)
	prev := 0
	for _, o := range taken {
		if o.pos > prev {
			frags = append(frags, fragment{text: text[prev:o.pos], id: NoToken})
		}
		frags = append(frags, fragment{id: o.id})
		prev = o.pos + len(t.tokens[o.id])
	}
	if prev < len(text) {
		frags = append(frags, fragment{text: text[prev:], id: NoToken})
	}
	return frags
}
