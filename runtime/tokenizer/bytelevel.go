package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// GPT-2's byte-to-unicode alphabet: byte-level BPE vocabularies spell every
// byte as one printable character. Printable Latin-1 bytes stand for
// themselves; the other 68 bytes map, in byte order, to U+0100 onwards.
var byteToRune, runeToByte = func() (b2r [256]rune, r2b map[rune]byte) {
	r2b = make(map[rune]byte, 256)
	n := rune(0)
	for b := 0; b < 256; b++ {
		printable := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		if printable {
			b2r[b] = rune(b)
		} else {
			b2r[b] = 256 + n
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}()

// byteLevelDecode turns a BPE token's text back into the bytes it stands
// for. ok is false when the text has a character outside the alphabet (added
// tokens are stored verbatim); such characters are copied through.
func byteLevelDecode(dst []byte, text string) (_ []byte, ok bool) {
	ok = true
	for _, r := range text {
		if b, in := runeToByte[r]; in {
			dst = append(dst, b)
		} else {
			dst = utf8.AppendRune(dst, r)
			ok = false
		}
	}
	return dst, ok
}

// byteLevelEncode spells raw bytes in the alphabet (what a vocabulary
// stores); used to look up and to build test vocabularies.
func byteLevelEncode(raw []byte) string {
	var b strings.Builder
	for _, c := range raw {
		b.WriteRune(byteToRune[c])
	}
	return b.String()
}
