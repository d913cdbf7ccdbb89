package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes the pre-tokenizers test. A zero value means "outside the
// fragment", which no pattern matches; every real character has cpDefined.
const (
	cpDefined uint8 = 1 << iota
	cpLetter        // \p{L}
	cpNumber        // \p{N}
	cpSpace         // \s: the Unicode White_Space property, as llama.cpp's table
	cpPunct         // \p{P}
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = classify(r)
	}
	return t
}()

func classify(r rune) uint8 {
	c := cpDefined
	switch {
	case unicode.IsLetter(r):
		c |= cpLetter
	case unicode.IsNumber(r):
		c |= cpNumber
	case unicode.Is(unicode.White_Space, r):
		c |= cpSpace
	case unicode.IsPunct(r):
		c |= cpPunct
	}
	return c
}

func classOf(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return classify(r)
}

// codepoints is text decoded the way libllama decodes it: every byte that
// does not start a valid UTF-8 sequence becomes U+FFFD on its own.
type codepoints struct {
	r     []rune
	class []uint8
}

func decodeCodepoints(s string, cp *codepoints) {
	if cap(cp.r) < len(s) {
		cp.r = make([]rune, 0, len(s))
		cp.class = make([]uint8, 0, len(s))
	}
	cp.r = cp.r[:0]
	cp.class = cp.class[:0]
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		cp.r = append(cp.r, r)
		cp.class = append(cp.class, classOf(r))
	}
}

// span is a half-open range of codepoint indexes.
type span struct{ lo, hi int }
