package tokenizer

import (
	"fmt"

	"github.com/bitnet-go/bitnet/gguf"
)

// GGUF metadata keys read by FromGGUF.
const (
	keyModel        = "tokenizer.ggml.model"
	keyPre          = "tokenizer.ggml.pre"
	keyTokens       = "tokenizer.ggml.tokens"
	keyScores       = "tokenizer.ggml.scores"
	keyTypes        = "tokenizer.ggml.token_type"
	keyMerges       = "tokenizer.ggml.merges"
	keyBOS          = "tokenizer.ggml.bos_token_id"
	keyEOS          = "tokenizer.ggml.eos_token_id"
	keyEOT          = "tokenizer.ggml.eot_token_id"
	keyEOM          = "tokenizer.ggml.eom_token_id"
	keyUNK          = "tokenizer.ggml.unknown_token_id"
	keyPAD          = "tokenizer.ggml.padding_token_id"
	keyAddBOS       = "tokenizer.ggml.add_bos_token"
	keyAddEOS       = "tokenizer.ggml.add_eos_token"
	keyAddSpace     = "tokenizer.ggml.add_space_prefix"
	keyChatTemplate = "tokenizer.chat_template"
	// keyEOSIDs is this project's key for generation_config.json's list of
	// eos_token_id (convert writes it; llama.cpp ignores it).
	keyEOSIDs = "tokenizer.ggml.eos_token_ids"
)

// FromGGUF builds the tokenizer described by a GGUF file's metadata,
// filling missing special-token ids with libllama's defaults (SPM: BOS 1,
// EOS 2, UNK 0; BPE: BOS and EOS 11), dropped when outside the vocabulary.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	v, err := VocabFromGGUF(f)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// VocabFromGGUF reads the tokenizer metadata of f without building the
// tokenizer (for tools that copy or rewrite a vocabulary).
func VocabFromGGUF(f *gguf.File) (Vocab, error) {
	var v Vocab
	var ok bool
	if v.Model, ok = f.String(keyModel); !ok {
		return v, fmt.Errorf("tokenizer: GGUF has no string %s", keyModel)
	}
	v.Pre, _ = f.String(keyPre)
	if v.Tokens, ok = f.Strings(keyTokens); !ok {
		return v, fmt.Errorf("tokenizer: GGUF has no string array %s", keyTokens)
	}
	n := len(v.Tokens)
	if a, ok := f.Array(keyScores); ok {
		s, err := floats(a, n, keyScores)
		if err != nil {
			return v, err
		}
		v.Scores = s
	}
	if a, ok := f.Array(keyTypes); ok {
		t, err := ints(a, n, keyTypes)
		if err != nil {
			return v, err
		}
		v.Types = make([]TokenType, n)
		for i, x := range t {
			v.Types[i] = TokenType(x)
		}
	}
	if v.Model == ModelBPE {
		if v.Merges, ok = f.Strings(keyMerges); !ok {
			return v, fmt.Errorf("tokenizer: BPE GGUF has no string array %s", keyMerges)
		}
	}

	v.BOS, v.EOS, v.EOT, v.EOM, v.UNK, v.PAD = NoToken, NoToken, NoToken, NoToken, NoToken, NoToken
	switch v.Model {
	case ModelSPM:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
	case ModelBPE:
		v.BOS, v.EOS = 11, 11
	}
	for _, p := range []struct {
		key string
		dst *int32
	}{{keyBOS, &v.BOS}, {keyEOS, &v.EOS}, {keyEOT, &v.EOT}, {keyEOM, &v.EOM}, {keyUNK, &v.UNK}, {keyPAD, &v.PAD}} {
		if _, present := f.Get(p.key); !present {
			if *p.dst >= int32(n) {
				*p.dst = NoToken // a default the vocabulary is too small for
			}
			continue
		}
		id, ok := f.Uint(p.key)
		if !ok || id >= uint64(n) {
			return v, fmt.Errorf("tokenizer: GGUF %s is not a token id below %d", p.key, n)
		}
		*p.dst = int32(id)
	}
	for _, p := range []struct {
		key string
		dst **bool
	}{{keyAddBOS, &v.AddBOS}, {keyAddEOS, &v.AddEOS}, {keyAddSpace, &v.AddSpacePrefix}} {
		if _, present := f.Get(p.key); !present {
			continue
		}
		b, ok := f.Bool(p.key)
		if !ok {
			return v, fmt.Errorf("tokenizer: GGUF %s is not a bool", p.key)
		}
		*p.dst = &b
	}
	if a, ok := f.Array(keyEOSIDs); ok {
		ids, err := ints(a, a.Len(), keyEOSIDs)
		if err != nil {
			return v, err
		}
		for _, id := range ids {
			if id < 0 || id >= int64(n) {
				return v, fmt.Errorf("tokenizer: GGUF %s has %d, not a token id below %d", keyEOSIDs, id, n)
			}
			v.EOG = append(v.EOG, int32(id))
		}
	}
	v.ChatTemplate, _ = f.String(keyChatTemplate)
	return v, nil
}

func floats(a gguf.Array, n int, key string) ([]float32, error) {
	if a.Len() != n {
		return nil, fmt.Errorf("tokenizer: GGUF %s has %d entries for %d tokens", key, a.Len(), n)
	}
	switch x := a.Values.(type) {
	case []float32:
		return x, nil
	case []float64:
		out := make([]float32, n)
		for i, f := range x {
			out[i] = float32(f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("tokenizer: GGUF %s is an array of %v, want float32", key, a.Elem)
}

func ints(a gguf.Array, n int, key string) ([]int64, error) {
	if a.Len() != n {
		return nil, fmt.Errorf("tokenizer: GGUF %s has %d entries for %d tokens", key, a.Len(), n)
	}
	out := make([]int64, n)
	switch x := a.Values.(type) {
	case []int32:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []uint32:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []int8:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []uint8:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []int16:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []uint16:
		for i, v := range x {
			out[i] = int64(v)
		}
	case []int64:
		copy(out, x)
	default:
		return nil, fmt.Errorf("tokenizer: GGUF %s is an array of %v, want int32", key, a.Elem)
	}
	return out, nil
}
