package tokenizer

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// cachePieces precomputes every token's bytes the way llama_token_to_piece
// renders them with special = true: control, unknown and user-defined
// tokens verbatim; normal SPM tokens with ▁ as space; SPM byte tokens as
// their byte; normal BPE tokens through the byte alphabet; unused and
// undefined tokens (and BPE byte tokens) as nothing.
func (t *Tokenizer) cachePieces() {
	t.pieceOff = make([]uint32, len(t.tokens)+1)
	for i, s := range t.tokens {
		switch t.types[i] {
		case TypeControl, TypeUnknown, TypeUserDefined:
			t.pieces = append(t.pieces, s...)
		case TypeNormal:
			if t.bpe {
				t.pieces, _ = byteLevelDecode(t.pieces, s)
			} else {
				t.pieces = append(t.pieces, strings.ReplaceAll(s, "▁", " ")...)
			}
		case TypeByte:
			if !t.bpe && len(s) == 6 && strings.HasPrefix(s, "<0x") && s[5] == '>' {
				if b, err := strconv.ParseUint(s[3:5], 16, 8); err == nil {
					t.pieces = append(t.pieces, byte(b))
				}
			}
		}
		t.pieceOff[i+1] = uint32(len(t.pieces))
	}
}

func (t *Tokenizer) piece(id int32) []byte {
	if id < 0 || int(id) >= len(t.tokens) {
		return nil
	}
	return t.pieces[t.pieceOff[id]:t.pieceOff[id+1]:t.pieceOff[id+1]]
}

// hidden reports whether plain decoding drops id (control and unknown
// tokens, as llama_token_to_piece with special = false).
func (t *Tokenizer) hidden(id int32) bool {
	typ := t.Type(id)
	return typ == TypeControl || typ == TypeUnknown
}

// Piece returns the bytes token id stands for, special tokens included as
// their text. A single piece can be an incomplete UTF-8 sequence.
func (t *Tokenizer) Piece(id int32) []byte {
	return append([]byte(nil), t.piece(id)...)
}

// AppendPiece appends Piece(id) to dst without allocating.
func (t *Tokenizer) AppendPiece(dst []byte, id int32) []byte {
	return append(dst, t.piece(id)...)
}

// Decode concatenates the pieces of ids, dropping control and unknown
// tokens (BOS, EOS, <|eot_id|>, ...). The result is the exact byte string
// the tokens stand for; it is valid UTF-8 whenever the ids came from
// encoding valid UTF-8. SPM's space prefix is kept.
func (t *Tokenizer) Decode(ids []int32) string {
	var b []byte
	for _, id := range ids {
		if !t.hidden(id) {
			b = append(b, t.piece(id)...)
		}
	}
	return string(b)
}

// Decoder turns a stream of ids into text piece by piece without ever
// splitting a UTF-8 character: bytes of a character that is still
// incomplete are held back until the tokens that finish it arrive.
// A Decoder is not safe for concurrent use.
type Decoder struct {
	t       *Tokenizer
	pending []byte
	// Special makes control and unknown tokens appear as their text.
	Special bool
}

// NewDecoder returns a streaming decoder.
func (t *Tokenizer) NewDecoder() *Decoder { return &Decoder{t: t} }

// Next adds token id and returns the text that is now complete (often "").
// Concatenating every Next and the final Flush gives Decode's bytes.
func (d *Decoder) Next(id int32) string {
	if !d.Special && d.t.hidden(id) {
		return ""
	}
	d.pending = append(d.pending, d.t.piece(id)...)
	cut := len(d.pending) - incompleteTail(d.pending)
	if cut == 0 {
		return ""
	}
	s := string(d.pending[:cut])
	d.pending = append(d.pending[:0], d.pending[cut:]...)
	return s
}

// Flush returns the bytes still held back (an unfinished character at the
// end of the stream, passed through as is) and resets the decoder.
func (d *Decoder) Flush() string {
	s := string(d.pending)
	d.pending = d.pending[:0]
	return s
}

// incompleteTail is the length of a UTF-8 sequence at the end of b that has
// a valid start but is missing bytes; 0 when b ends on a whole character or
// on bytes that can never become one.
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		c := b[i]
		if c < utf8.RuneSelf {
			return 0
		}
		if c >= 0xC0 { // a lead byte: is what follows it a proper prefix?
			if utf8.FullRune(b[i:]) {
				return 0
			}
			return len(b) - i
		}
	}
	return 0
}
