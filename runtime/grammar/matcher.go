package grammar

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// Matcher follows a document being written byte by byte and knows which
// bytes may come next. A Matcher belongs to one sequence; it is not safe
// for concurrent use. Build one with Schema.NewMatcher.
type Matcher struct {
	paths []path
	tmp   []path
	// Token search scratch, one path set per trie depth.
	levels [][]path
}

// NewMatcher returns a matcher at the start of a document.
func (s *Schema) NewMatcher() *Matcher {
	return &Matcher{paths: []path{{top: frame{n: s.root, kind: fValue}}}}
}

// advance returns the paths of ps after b, appended to out.
func advance(ps []path, b byte, out []path) []path {
	for _, p := range ps {
		if len(out) >= maxPaths {
			break
		}
		out = step(p, b, out)
	}
	return out
}

// Advance feeds text to the matcher. It reports false, and leaves the
// matcher as it was, when text is not a prefix of an accepted document.
func (m *Matcher) Advance(text []byte) bool {
	cur := slices.Clone(m.paths)
	for _, b := range text {
		m.tmp = advance(cur, b, m.tmp[:0])
		if len(m.tmp) == 0 {
			return false
		}
		cur, m.tmp = m.tmp, cur
	}
	m.paths = slices.Clone(cur)
	return true
}

// Complete reports whether the text so far is a whole accepted document.
func (m *Matcher) Complete() bool { return anyComplete(m.paths) }

func anyComplete(ps []path) bool {
	for _, p := range ps {
		if p.complete() {
			return true
		}
	}
	return false
}

// MinRemaining is the fewest bytes that still complete the document (0
// when it is complete).
func (m *Matcher) MinRemaining() int { return minClose(m.paths) }

func minClose(ps []path) int {
	c := infinite
	for _, p := range ps {
		if p.complete() {
			return 0
		}
		c = min(c, p.close())
	}
	return c
}

// Vocab is a model's vocabulary prepared for token masks: a byte trie over
// the tokens' pieces, so that tokens sharing a prefix are checked
// together and a prefix the grammar rules out prunes all of them at once.
// A Vocab is read-only and may be shared by any number of matchers.
type Vocab struct {
	nodes []trieNode
	ids   []int32 // tokens ending at each node, by node
	eog   []int32
	size  int
	// Inside a string most tokens are plain text: no quote, backslash or
	// control byte, whole UTF-8 characters. Their effect there depends
	// only on their length in characters, so a mask inside a string
	// checks them by that length and runs the automaton only on the
	// others (tricky), instead of walking the whole trie.
	plain      []int32
	plainRunes []int32
	tricky     []int32
	pieces     [][]byte
}

// trieNode is a node of the vocabulary trie, laid out in depth-first
// order: a node's first child (if any) follows it, and each child's end
// is where its next sibling starts.
type trieNode struct {
	b                byte
	end              int32 // one past the last node of this subtree
	tokStart, tokEnd int32 // tokens ending here are ids[tokStart:tokEnd]
}

// NewVocab prepares a vocabulary. pieces[id] is the text token id stands
// for; tokens with an empty piece (control tokens, padding) are never
// allowed by a mask, except the end-of-generation tokens eog, which are
// allowed exactly when the document is complete.
func NewVocab(pieces [][]byte, eog []int32) *Vocab {
	v := &Vocab{eog: slices.Clone(eog), size: len(pieces), pieces: pieces}
	isEOG := func(id int) bool { return slices.Contains(eog, int32(id)) }
	var order []int32
	for id, p := range pieces {
		if len(p) == 0 || isEOG(id) {
			continue
		}
		order = append(order, int32(id))
		if r, ok := plainText(p); ok {
			v.plain = append(v.plain, int32(id))
			v.plainRunes = append(v.plainRunes, int32(r))
		} else {
			v.tricky = append(v.tricky, int32(id))
		}
	}
	// Sorted pieces build the trie in one pass: a piece shares with the
	// previous one the path of their common prefix, a prefix comes before
	// its extensions, and equal pieces come together.
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(pieces[a], pieces[b]); c != 0 {
			return c
		}
		return int(a - b)
	})
	v.nodes = append(v.nodes, trieNode{})
	path := []int32{0} // path[d]: the node at depth d of the previous piece
	var prev []byte
	for _, id := range order {
		p := pieces[id]
		common := 0
		for common < len(prev) && common < len(p) && prev[common] == p[common] {
			common++
		}
		for len(path) > common+1 { // close the subtrees the new piece leaves
			last := path[len(path)-1]
			v.nodes[last].end = int32(len(v.nodes))
			path = path[:len(path)-1]
		}
		for _, b := range p[common:] {
			path = append(path, int32(len(v.nodes)))
			v.nodes = append(v.nodes, trieNode{b: b, tokStart: int32(len(v.ids)), tokEnd: int32(len(v.ids))})
		}
		n := &v.nodes[path[len(path)-1]]
		if n.tokEnd != int32(len(v.ids)) {
			panic("grammar: trie tokens out of order") // sorted input makes this impossible
		}
		v.ids = append(v.ids, id)
		n.tokEnd++
		prev = p
	}
	for _, n := range path {
		v.nodes[n].end = int32(len(v.nodes))
	}
	return v
}

// Size is the number of token ids the vocabulary covers.
func (v *Vocab) Size() int { return v.size }

// Allowed appends to dst the tokens that may come next: those whose piece
// keeps the text a prefix of an accepted document, and the
// end-of-generation tokens when the document is complete. budget is the
// number of tokens the sequence may still produce, this one included;
// tokens after which the document can no longer be completed within it
// (counting one byte per token and one token for the end) are left out
// while any other token is allowed, so that a reply runs out of room only
// when the budget is smaller than the shortest completion. budget ≤ 0
// means no limit.
func (m *Matcher) Allowed(v *Vocab, budget int, dst []int32) []int32 {
	complete := m.Complete()
	limit := infinite
	if budget > 0 {
		limit = budget - 2
	}
	start := len(dst)
	// Tokens that fit the budget go to dst; the others wait in over,
	// keeping only those with the shortest completion.
	var over []int32
	overBest := infinite
	if len(m.levels) == 0 {
		m.levels = make([][]path, 1)
	}
	m.levels[0] = append(m.levels[0][:0], m.paths...)
	if len(m.paths) == 1 && m.paths[0].top.kind == fString && m.paths[0].top.esc == 0 && m.paths[0].top.utf == 0 {
		return m.allowedInString(v, limit, dst)
	}
	var walk func(ni int32, d int)
	walk = func(ni int32, d int) {
		n := &v.nodes[ni]
		for ci := ni + 1; ci < n.end; ci = v.nodes[ci].end {
			c := &v.nodes[ci]
			if len(m.levels) <= d+1 {
				m.levels = append(m.levels, nil)
			}
			next := advance(m.levels[d], c.b, m.levels[d+1][:0])
			m.levels[d+1] = next
			if len(next) == 0 {
				continue
			}
			if c.tokEnd > c.tokStart {
				cl := minClose(next)
				ids := v.ids[c.tokStart:c.tokEnd]
				switch {
				case cl <= limit:
					dst = append(dst, ids...)
				case cl < overBest:
					over, overBest = append(over[:0], ids...), cl
				case cl == overBest:
					over = append(over, ids...)
				}
			}
			if c.end > ci+1 {
				walk(ci, d+1)
			}
		}
	}
	walk(0, 0)
	if len(dst) == start && !complete {
		dst = append(dst, over...)
	}
	if complete {
		dst = append(dst, v.eog...)
	}
	return dst
}

// AcceptToken advances the matcher by a sampled token's piece; an
// end-of-generation token is accepted when the document is complete.
func (m *Matcher) AcceptToken(v *Vocab, piece []byte, id int32) bool {
	if slices.Contains(v.eog, id) {
		return m.Complete()
	}
	return len(piece) > 0 && m.Advance(piece)
}

// plainText reports whether p is plain string content and its length in
// characters.
func plainText(p []byte) (int, bool) {
	if !utf8.Valid(p) {
		return 0, false
	}
	for _, b := range p {
		if b < 0x20 || b == '"' || b == '\\' {
			return 0, false
		}
	}
	return utf8.RuneCount(p), true
}

// allowedInString is Allowed inside a string value between characters:
// plain tokens are checked by their length alone, the others by running
// the automaton over their bytes.
func (m *Matcher) allowedInString(v *Vocab, limit int, dst []int32) []int32 {
	p := m.paths[0]
	n := p.top.n
	rest := 0
	if p.rest != nil {
		rest = p.rest.close
	}
	start := len(dst)
	var over []int32
	overBest := infinite
	add := func(id int32, cl int) {
		switch {
		case cl <= limit:
			dst = append(dst, id)
		case cl < overBest:
			over, overBest = append(over[:0], id), cl
		case cl == overBest:
			over = append(over, id)
		}
	}
	count := int(p.top.count)
	for i, id := range v.plain {
		r := int(v.plainRunes[i])
		if n.maxLen >= 0 && count+r > n.maxLen {
			continue
		}
		add(id, max(0, n.minLen-count-r)+1+rest)
	}
	for len(m.levels) < 3 {
		m.levels = append(m.levels, nil)
	}
	x, y := m.levels[1], m.levels[2]
	for _, id := range v.tricky {
		cur := m.levels[0]
		for _, c := range v.pieces[id] {
			next := advance(cur, c, x[:0])
			cur, x, y = next, y, next
			if len(cur) == 0 {
				break
			}
		}
		if len(cur) > 0 {
			add(id, minClose(cur))
		}
	}
	m.levels[1], m.levels[2] = x, y
	if len(dst) == start {
		dst = append(dst, over...)
	}
	return dst
}
