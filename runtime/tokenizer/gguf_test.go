package tokenizer

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// parseKV encodes metadata into an in-memory GGUF and parses it back.
func parseKV(t *testing.T, kv []gguf.KV) *gguf.File {
	t.Helper()
	var buf bytes.Buffer
	if err := gguf.Encode(&buf, kv, nil); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func strArray(s []string) gguf.Array { return gguf.Array{Elem: gguf.String, Values: s} }

// TestFromGGUFLlama3 writes the Llama-3 vocabulary as the converters do
// (token types, merges, ids, add_bos_token) and checks the tokenizer read
// back encodes like the one built directly.
func TestFromGGUFLlama3(t *testing.T) {
	v := llama3Vocab(t)
	types := make([]int32, len(v.Types))
	for i, x := range v.Types {
		types[i] = int32(x)
	}
	f := parseKV(t, []gguf.KV{
		{Key: "general.architecture", Value: "bitnet-b1.58"},
		{Key: keyModel, Value: "gpt2"},
		{Key: keyPre, Value: "llama-bpe"},
		{Key: keyTokens, Value: strArray(v.Tokens)},
		{Key: keyTypes, Value: gguf.Array{Elem: gguf.Int32, Values: types}},
		{Key: keyMerges, Value: strArray(v.Merges)},
		{Key: keyBOS, Value: uint32(128000)},
		{Key: keyEOS, Value: uint32(128001)},
		{Key: keyEOT, Value: uint32(128009)},
		{Key: keyAddBOS, Value: true},
		{Key: keyChatTemplate, Value: "{{ x }}"},
	})
	tok, err := FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	ref := llama3(t)
	for _, c := range readCorpus(t)[:120] {
		if got, want := tok.Encode(c.Text, true, true), ref.Encode(c.Text, true, true); !slices.Equal(got, want) {
			t.Fatalf("%q: %v, want %v", c.Text, got, want)
		}
	}
	if tok.ChatTemplate() != "{{ x }}" || tok.EOT() != 128009 || !tok.AddBOS() || tok.UNK() != NoToken {
		t.Errorf("metadata: template %q eot %d addBOS %v unk %d", tok.ChatTemplate(), tok.EOT(), tok.AddBOS(), tok.UNK())
	}
}

func TestFromGGUFDefaultsAndErrors(t *testing.T) {
	tokens := strArray([]string{"<unk>", "<s>", "</s>", "a"})
	base := []gguf.KV{{Key: keyModel, Value: "llama"}, {Key: keyTokens, Value: tokens}}
	tok, err := FromGGUF(parseKV(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 || !tok.AddBOS() || tok.AddEOS() {
		t.Errorf("SPM defaults: bos %d eos %d unk %d addBOS %v addEOS %v", tok.BOS(), tok.EOS(), tok.UNK(), tok.AddBOS(), tok.AddEOS())
	}
	for _, c := range []struct {
		name string
		kv   []gguf.KV
		want string
	}{
		{"no model", []gguf.KV{{Key: keyTokens, Value: tokens}}, keyModel},
		{"no tokens", []gguf.KV{{Key: keyModel, Value: "llama"}}, keyTokens},
		{"scores length", append(slices.Clone(base), gguf.KV{Key: keyScores, Value: gguf.Array{Elem: gguf.Float32, Values: []float32{1}}}), keyScores},
		{"types kind", append(slices.Clone(base), gguf.KV{Key: keyTypes, Value: strArray([]string{"a", "b", "c", "d"})}), keyTypes},
		{"bos range", append(slices.Clone(base), gguf.KV{Key: keyBOS, Value: uint32(9)}), keyBOS},
		{"bos type", append(slices.Clone(base), gguf.KV{Key: keyBOS, Value: "1"}), keyBOS},
		{"add_bos type", append(slices.Clone(base), gguf.KV{Key: keyAddBOS, Value: uint8(1)}), keyAddBOS},
		{"bpe merges", []gguf.KV{{Key: keyModel, Value: "gpt2"}, {Key: keyTokens, Value: tokens}}, keyMerges},
		{"model", []gguf.KV{{Key: keyModel, Value: "bert"}, {Key: keyTokens, Value: tokens}}, `"bert"`},
	} {
		_, err := FromGGUF(parseKV(t, c.kv))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to name %s", c.name, err, c.want)
		}
	}
}

// TestFromGGUFEOSList: generation_config.json's eos_token_id list, which
// convert stores as tokenizer.ggml.eos_token_ids, ends generation too, and
// an id outside the vocabulary is an error.
func TestFromGGUFEOSList(t *testing.T) {
	tokens := []string{"a", "b", "c", "<|end_of_text|>", "<|eom|>", "<|done|>"}
	base := []gguf.KV{
		{Key: keyModel, Value: "gpt2"},
		{Key: keyPre, Value: "gpt-2"},
		{Key: keyTokens, Value: strArray(tokens)},
		{Key: keyMerges, Value: strArray([]string{"a b"})},
		{Key: keyEOS, Value: uint32(3)},
	}
	for _, c := range []struct {
		name string
		ids  []uint32
		eog  []int32
		err  string
	}{
		{"no list", nil, []int32{3}, ""},
		{"list", []uint32{3, 5}, []int32{3, 5}, ""},
		{"outside", []uint32{3, 6}, nil, "eos_token_ids has 6"},
	} {
		kv := slices.Clone(base)
		if c.ids != nil {
			kv = append(kv, gguf.KV{Key: keyEOSIDs, Value: gguf.Array{Elem: gguf.Uint32, Values: c.ids}})
		}
		tok, err := FromGGUF(parseKV(t, kv))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := tok.EOG(); !slices.Equal(got, c.eog) {
			t.Errorf("%s: EOG %v, want %v", c.name, got, c.eog)
		}
	}
}
