package tokenizer

import "strings"

// fragment is either raw text (id == NoToken) or one special token.
type fragment struct {
	text string
	id   int32
}

// partition cuts special tokens out of text. Like libllama's
// tokenizer_st_partition it takes the candidates one at a time, longest
// first, and splits every remaining text fragment on all occurrences, so a
// longer token wins over a shorter one wherever they overlap.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: NoToken}}
	var next []fragment
	for _, id := range t.special {
		if !parseSpecial && (t.types[id] == TypeControl || t.types[id] == TypeUnknown) {
			continue
		}
		tok := t.tokens[id]
		if !strings.Contains(text, tok) {
			continue
		}
		next = next[:0]
		for _, fr := range frags {
			if fr.id != NoToken {
				next = append(next, fr)
				continue
			}
			s := fr.text
			for {
				i := strings.Index(s, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{text: s[:i], id: NoToken})
				}
				next = append(next, fragment{id: id})
				s = s[i+len(tok):]
			}
			if s != "" {
				next = append(next, fragment{text: s, id: NoToken})
			}
		}
		frags, next = next, frags
	}
	return frags
}
