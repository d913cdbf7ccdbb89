package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// SentencePiece token types (sentencepiece_model.proto's
// SentencePiece.Type), which are also GGUF's tokenizer.ggml.token_type values.
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// SPModel is the part of a SentencePiece ModelProto (tokenizer.model) that a
// GGUF needs, decoded from the protobuf wire format by hand so that no
// protobuf library is required.
type SPModel struct {
	Pieces []SPPiece

	// TrainerSpec fields.
	ModelType                  int32 // 1 unigram, 2 BPE, 3 word, 4 char
	ByteFallback               bool
	UnkID, BOSID, EOSID, PadID int32

	// NormalizerSpec fields.
	AddDummyPrefix         bool
	RemoveExtraWhitespaces bool
	EscapeWhitespaces      bool
}

// SPPiece is one vocabulary entry.
type SPPiece struct {
	Piece string
	Score float32
	Type  int32
}

// Protobuf wire types.
const (
	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
	wireI32    = 5
)

// pbReader walks protobuf fields of one message.
type pbReader struct {
	b   []byte
	off int
}

// next returns the next field's number and wire type, and for LEN fields
// the payload; val holds varint and fixed values.
func (r *pbReader) next() (field int, wt int, val uint64, payload []byte, err error) {
	key, err := r.varint()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	field, wt = int(key>>3), int(key&7)
	if field == 0 {
		return 0, 0, 0, nil, fmt.Errorf("offset %d: field number 0", r.off)
	}
	switch wt {
	case wireVarint:
		val, err = r.varint()
	case wireI64:
		if len(r.b)-r.off < 8 {
			return 0, 0, 0, nil, fmt.Errorf("offset %d: truncated fixed64", r.off)
		}
		val = binary.LittleEndian.Uint64(r.b[r.off:])
		r.off += 8
	case wireI32:
		if len(r.b)-r.off < 4 {
			return 0, 0, 0, nil, fmt.Errorf("offset %d: truncated fixed32", r.off)
		}
		val = uint64(binary.LittleEndian.Uint32(r.b[r.off:]))
		r.off += 4
	case wireLen:
		var n uint64
		n, err = r.varint()
		if err == nil && n > uint64(len(r.b)-r.off) {
			err = fmt.Errorf("offset %d: field %d length %d runs past the end", r.off, field, n)
		}
		if err == nil {
			payload = r.b[r.off : r.off+int(n)]
			r.off += int(n)
		}
	default:
		err = fmt.Errorf("offset %d: field %d has unsupported wire type %d", r.off, field, wt)
	}
	return field, wt, val, payload, err
}

func (r *pbReader) varint() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		if r.off >= len(r.b) {
			return 0, errors.New("truncated varint")
		}
		c := r.b[r.off]
		r.off++
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("offset %d: varint longer than 10 bytes", r.off)
}

func (r *pbReader) done() bool { return r.off >= len(r.b) }

// ParseSPModel decodes a serialized SentencePiece ModelProto.
func ParseSPModel(b []byte) (*SPModel, error) {
	m := &SPModel{
		ModelType: 1, UnkID: 0, BOSID: 1, EOSID: 2, PadID: -1,
		AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true,
	}
	r := &pbReader{b: b}
	for !r.done() {
		field, wt, _, payload, err := r.next()
		if err != nil {
			return nil, err
		}
		if wt != wireLen {
			continue // unknown scalar fields are skipped, as protobuf does
		}
		switch field {
		case 1:
			p, err := parseSPPiece(payload)
			if err != nil {
				return nil, fmt.Errorf("piece %d: %w", len(m.Pieces), err)
			}
			m.Pieces = append(m.Pieces, p)
		case 2:
			if err := m.parseTrainerSpec(payload); err != nil {
				return nil, fmt.Errorf("trainer_spec: %w", err)
			}
		case 3:
			if err := m.parseNormalizerSpec(payload); err != nil {
				return nil, fmt.Errorf("normalizer_spec: %w", err)
			}
		}
	}
	if len(m.Pieces) == 0 {
		return nil, errors.New("no pieces: not a SentencePiece model")
	}
	return m, nil
}

func parseSPPiece(b []byte) (SPPiece, error) {
	p := SPPiece{Type: TokenNormal}
	r := &pbReader{b: b}
	for !r.done() {
		field, wt, val, payload, err := r.next()
		if err != nil {
			return p, err
		}
		switch {
		case field == 1 && wt == wireLen:
			if !utf8.Valid(payload) {
				return p, fmt.Errorf("piece %q is not valid UTF-8", payload)
			}
			p.Piece = string(payload)
		case field == 2 && wt == wireI32:
			p.Score = math.Float32frombits(uint32(val))
		case field == 3 && wt == wireVarint:
			p.Type = int32(val)
			if p.Type < TokenNormal || p.Type > TokenByte {
				return p, fmt.Errorf("piece %q has unknown type %d", p.Piece, val)
			}
		}
	}
	return p, nil
}

func (m *SPModel) parseTrainerSpec(b []byte) error {
	return eachVarint(b, func(field int, val uint64) {
		switch field {
		case 3:
			m.ModelType = int32(val)
		case 35:
			m.ByteFallback = val != 0
		case 40:
			m.UnkID = int32(int64(val))
		case 41:
			m.BOSID = int32(int64(val))
		case 42:
			m.EOSID = int32(int64(val))
		case 43:
			m.PadID = int32(int64(val))
		}
	})
}

func (m *SPModel) parseNormalizerSpec(b []byte) error {
	return eachVarint(b, func(field int, val uint64) {
		switch field {
		case 3:
			m.AddDummyPrefix = val != 0
		case 4:
			m.RemoveExtraWhitespaces = val != 0
		case 5:
			m.EscapeWhitespaces = val != 0
		}
	})
}

// eachVarint calls fn with every varint field of the message b, skipping
// fields of other wire types: the trainer and normalizer specs need only
// their numbers and flags.
func eachVarint(b []byte, fn func(field int, val uint64)) error {
	r := &pbReader{b: b}
	for !r.done() {
		field, wt, val, _, err := r.next()
		if err != nil {
			return err
		}
		if wt == wireVarint {
			fn(field, val)
		}
	}
	return nil
}
