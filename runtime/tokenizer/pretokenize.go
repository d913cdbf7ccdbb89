package tokenizer

// The BPE pre-tokenizers, written by hand instead of with a regexp engine.
// Each split function refines a list of spans; a chain of them reproduces
// libllama's unicode_regex_split, which applies its patterns one after the
// other and keeps both the matches and the gaps between them as words.

// preTokenizer identifies a splitting chain.
type preTokenizer int

const (
	preDefault preTokenizer = iota // llama.cpp's chain for "default" and unknown hashes
	preLlama3                      // Llama-3 pattern
	preGPT2                        // GPT-2 pattern
	preFalcon                      // punctuation runs, GPT-2, groups of 3 ASCII digits
	preFalcon3                     // punctuation runs, GPT-2, single ASCII digits
)

// splitter accumulates the words of one input span.
type splitter struct {
	out  []span
	prev int
}

func (s *splitter) emit(end int) {
	if end > s.prev {
		s.out = append(s.out, span{s.prev, end})
	}
	s.prev = end
}

// classAt is the class of codepoint i, or 0 past the end of the span.
func (cp *codepoints) classAt(i, hi int) uint8 {
	if i < hi {
		return cp.class[i]
	}
	return 0
}

func asciiLower(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + ('a' - 'A')
	}
	return r
}

// contraction returns the length of a 's 't 're 've 'm 'll 'd suffix at pos
// (case-insensitive when fold is set), or 0.
func (cp *codepoints) contraction(pos, hi int, fold bool) int {
	if cp.r[pos] != '\'' || pos+1 >= hi {
		return 0
	}
	lower := func(r rune) rune {
		if fold {
			return asciiLower(r)
		}
		return r
	}
	switch lower(cp.r[pos+1]) {
	case 's', 't', 'm', 'd':
		return 2
	}
	if pos+2 < hi {
		a, b := lower(cp.r[pos+1]), lower(cp.r[pos+2])
		if (a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l') {
			return 3
		}
	}
	return 0
}

// whitespaceRun counts the whitespace at pos and reports the end of its last
// \r or \n (0 when it has none).
func (cp *codepoints) whitespaceRun(pos, hi int) (n, lastNewlineEnd int) {
	for cp.classAt(pos+n, hi)&cpSpace != 0 {
		if r := cp.r[pos+n]; r == '\r' || r == '\n' {
			lastNewlineEnd = pos + n + 1
		}
		n++
	}
	return n, lastNewlineEnd
}

// splitLlama3 implements
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// trying the alternatives in order at each position, as the regex would.
func splitLlama3(cp *codepoints, in []span, out []span) []span {
	const word = cpSpace | cpLetter | cpNumber
	for _, sp := range in {
		hi := sp.hi
		s := splitter{out: out, prev: sp.lo}
		for pos := sp.lo; pos < hi; {
			c, f := cp.r[pos], cp.class[pos]
			if n := cp.contraction(pos, hi, true); n > 0 {
				pos += n
				s.emit(pos)
				continue
			}
			// [^\r\n\p{L}\p{N}]?\p{L}+
			if c != '\r' && c != '\n' && f&cpNumber == 0 &&
				(f&cpLetter != 0 || cp.classAt(pos+1, hi)&cpLetter != 0) {
				pos++
				for cp.classAt(pos, hi)&cpLetter != 0 {
					pos++
				}
				s.emit(pos)
				continue
			}
			// \p{N}{1,3}
			if f&cpNumber != 0 {
				start := pos
				for cp.classAt(pos, hi)&cpNumber != 0 {
					pos++
					if pos-start == 3 {
						s.emit(pos)
						start = pos
					}
				}
				s.emit(pos)
				continue
			}
			// ' '?[^\s\p{L}\p{N}]+[\r\n]*
			f2 := f
			if c == ' ' {
				f2 = cp.classAt(pos+1, hi)
			}
			if f2&word == 0 {
				if c == ' ' {
					pos++
				}
				for f2&word == 0 && f2 != 0 {
					pos++
					f2 = cp.classAt(pos, hi)
				}
				for pos < hi && (cp.r[pos] == '\r' || cp.r[pos] == '\n') {
					pos++
				}
				s.emit(pos)
				continue
			}
			n, nl := cp.whitespaceRun(pos, hi)
			switch {
			case nl > 0: // \s*[\r\n]+
				pos = nl
			case n > 1 && pos+n < hi: // \s+(?!\S): leave one space for the next word
				pos += n - 1
			case n > 0: // \s+
				pos += n
			default:
				pos++
			}
			s.emit(pos)
		}
		out = s.out
	}
	return out
}

// splitGPT2 implements
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(cp *codepoints, in []span, out []span) []span {
	const word = cpSpace | cpLetter | cpNumber
	for _, sp := range in {
		hi := sp.hi
		s := splitter{out: out, prev: sp.lo}
		for pos := sp.lo; pos < hi; {
			c, f := cp.r[pos], cp.class[pos]
			if n := cp.contraction(pos, hi, false); n > 0 {
				pos += n
				s.emit(pos)
				continue
			}
			f2 := f
			if c == ' ' {
				f2 = cp.classAt(pos+1, hi)
			}
			// ' '?\p{L}+ | ' '?\p{N}+ | ' '?[^\s\p{L}\p{N}]+
			var run uint8
			switch {
			case f2&cpLetter != 0:
				run = cpLetter
			case f2&cpNumber != 0:
				run = cpNumber
			case f2&word == 0 && f2 != 0:
				run = 0
			default:
				run = 0xff
			}
			if run != 0xff {
				if c == ' ' {
					pos++
				}
				for {
					g := cp.classAt(pos, hi)
					if run == 0 && (g&word != 0 || g == 0) || run != 0 && g&run == 0 {
						break
					}
					pos++
				}
				s.emit(pos)
				continue
			}
			n, _ := cp.whitespaceRun(pos, hi)
			switch {
			case n > 1 && pos+n < hi:
				pos += n - 1
			case n > 0:
				pos += n
			default:
				pos++
			}
			s.emit(pos)
		}
		out = s.out
	}
	return out
}

// splitRuns cuts every span into maximal runs of codepoints satisfying in,
// and the gaps between them (a "[class]+" pattern).
func splitRuns(cp *codepoints, in []span, out []span, match func(rune, uint8) bool) []span {
	for _, sp := range in {
		s := splitter{out: out, prev: sp.lo}
		for pos := sp.lo; pos < sp.hi; {
			if !match(cp.r[pos], cp.class[pos]) {
				pos++
				continue
			}
			s.emit(pos)
			for pos < sp.hi && match(cp.r[pos], cp.class[pos]) {
				pos++
			}
			s.emit(pos)
		}
		s.emit(sp.hi)
		out = s.out
	}
	return out
}

// splitDigits cuts out every leftmost group of k ASCII digits ("[0-9]" for
// k = 1, "[0-9][0-9][0-9]" for k = 3).
func splitDigits(cp *codepoints, in []span, out []span, k int) []span {
	isDigit := func(i int) bool { return '0' <= cp.r[i] && cp.r[i] <= '9' }
	for _, sp := range in {
		s := splitter{out: out, prev: sp.lo}
		for pos := sp.lo; pos+k <= sp.hi; {
			n := 0
			for n < k && isDigit(pos+n) {
				n++
			}
			if n < k {
				pos++
				continue
			}
			s.emit(pos)
			pos += k
			s.emit(pos)
		}
		s.emit(sp.hi)
		out = s.out
	}
	return out
}

// punctRun matches [\p{P}\$\+<=>\^~\|`] (withBacktick) or the same class
// without the backtick (llama.cpp's default chain).
func punctRun(withBacktick bool) func(rune, uint8) bool {
	return func(r rune, c uint8) bool {
		switch r {
		case '$', '+', '<', '=', '>', '^', '~', '|':
			return true
		case '`':
			return withBacktick
		}
		return c&cpPunct != 0
	}
}

func numberRun(_ rune, c uint8) bool { return c&cpNumber != 0 }

var (
	punctWithBacktick = punctRun(true)
	punctDefault      = punctRun(false)
)

// split returns the words of cp (indexes into it) for the given chain,
// using a and b as scratch.
func (p preTokenizer) split(cp *codepoints, a, b []span) []span {
	a = append(a[:0], span{0, len(cp.r)})
	switch p {
	case preLlama3:
		return splitLlama3(cp, a, b[:0])
	case preGPT2:
		return splitGPT2(cp, a, b[:0])
	case preFalcon, preFalcon3:
		b = splitRuns(cp, a, b[:0], punctWithBacktick)
		a = splitGPT2(cp, b, a[:0])
		k := 3
		if p == preFalcon3 {
			k = 1
		}
		return splitDigits(cp, a, b[:0], k)
	default:
		b = splitRuns(cp, a, b[:0], punctDefault)
		a = splitGPT2(cp, b, a[:0])
		b = splitRuns(cp, a, b[:0], numberRun)
		return splitDigits(cp, b, a[:0], 3)
	}
}
