package convert

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"
)

// pb builds protobuf wire bytes for tests.
type pb []byte

func (b pb) varint(v uint64) pb {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func (b pb) key(field, wt int) pb { return b.varint(uint64(field<<3 | wt)) }

func (b pb) bytes(field int, p []byte) pb {
	return append(b.key(field, wireLen).varint(uint64(len(p))), p...)
}

func (b pb) fixed32(field int, v uint32) pb {
	return binary.LittleEndian.AppendUint32(b.key(field, wireI32), v)
}

func (b pb) uint(field int, v uint64) pb { return b.key(field, wireVarint).varint(v) }

func piece(text string, score float32, typ int32) []byte {
	p := pb(nil).bytes(1, []byte(text)).fixed32(2, math.Float32bits(score))
	if typ != TokenNormal {
		p = p.uint(3, uint64(typ))
	}
	return p
}

func TestParseSPModel(t *testing.T) {
	trainer := pb(nil).uint(3, 2).uint(35, 1).uint(40, 0).uint(41, 1).uint(42, 2).
		uint(43, uint64(math.MaxUint64)) // pad_id = -1, sign-extended
	normalizer := pb(nil).bytes(1, []byte("identity")).uint(3, 0).uint(4, 0)
	model := pb(nil).
		bytes(1, piece("<unk>", 0, TokenUnknown)).
		bytes(1, piece("<s>", 0, TokenControl)).
		bytes(1, piece("</s>", 0, TokenControl)).
		bytes(1, piece("<0x41>", 0, TokenByte)).
		bytes(1, piece("▁the", -1.5, TokenNormal)).
		bytes(2, trainer).
		bytes(3, normalizer).
		uint(99, 5) // an unknown field is skipped
	m, err := ParseSPModel(model)
	if err != nil {
		t.Fatal(err)
	}
	want := []SPPiece{
		{"<unk>", 0, TokenUnknown}, {"<s>", 0, TokenControl}, {"</s>", 0, TokenControl},
		{"<0x41>", 0, TokenByte}, {"▁the", -1.5, TokenNormal},
	}
	if !reflect.DeepEqual(m.Pieces, want) {
		t.Errorf("pieces %+v, want %+v", m.Pieces, want)
	}
	if m.ModelType != 2 || !m.ByteFallback || m.UnkID != 0 || m.BOSID != 1 || m.EOSID != 2 || m.PadID != -1 {
		t.Errorf("trainer spec %+v", m)
	}
	if m.AddDummyPrefix || m.RemoveExtraWhitespaces || !m.EscapeWhitespaces {
		t.Errorf("normalizer spec: add_dummy_prefix %v remove_extra_whitespaces %v escape %v", m.AddDummyPrefix, m.RemoveExtraWhitespaces, m.EscapeWhitespaces)
	}
}

func TestParseSPModelDefaults(t *testing.T) {
	m, err := ParseSPModel(pb(nil).bytes(1, piece("a", 0, TokenNormal)))
	if err != nil {
		t.Fatal(err)
	}
	if m.ModelType != 1 || m.BOSID != 1 || m.EOSID != 2 || m.PadID != -1 || !m.AddDummyPrefix || !m.RemoveExtraWhitespaces {
		t.Errorf("defaults not applied: %+v", m)
	}
}

func TestParseSPModelErrors(t *testing.T) {
	good := pb(nil).bytes(1, piece("a", 0, TokenNormal))
	cases := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"no pieces", pb(nil).bytes(2, pb(nil).uint(3, 2))},
		{"truncated varint", []byte{0x0a, 0xff}},
		{"length past end", pb(nil).key(1, wireLen).varint(1000)},
		{"truncated fixed32", append(append([]byte{}, good...), 0x15, 1, 2)},
		{"group wire type", append(append([]byte{}, good...), 0x0b)},
		{"field zero", append(append([]byte{}, good...), 0x00, 0x00)},
		{"bad piece type", pb(nil).bytes(1, pb(nil).bytes(1, []byte("a")).uint(3, 9))},
		{"invalid UTF-8 piece", pb(nil).bytes(1, pb(nil).bytes(1, []byte{0xff, 0xfe}))},
		{"overlong varint", append(append([]byte{}, good...), 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseSPModel(c.in); err == nil {
				t.Error("no error")
			}
		})
	}
}

func FuzzParseSPModel(f *testing.F) {
	f.Add([]byte(pb(nil).bytes(1, piece("<unk>", 0, TokenUnknown)).bytes(2, pb(nil).uint(3, 2))))
	f.Add([]byte{0x0a, 0x03, 0x0a, 0x01, 'a'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseSPModel(b)
		if err == nil && len(m.Pieces) > len(b) {
			t.Fatalf("%d pieces from %d bytes", len(m.Pieces), len(b))
		}
	})
}
