package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/gguf"
)

// Vocab is a tokenizer in GGUF terms (the tokenizer.ggml.* metadata).
type Vocab struct {
	Model  string // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
	Pre    string // pre-tokenizer name: "llama-bpe", "falcon3", "default", ...
	Tokens []string
	Scores []float32 // SentencePiece only
	Types  []int32   // TokenNormal, TokenControl, ...
	Merges []string  // BPE only, "left right"

	// Special token ids, -1 when the model has none.
	BOS, EOS, UNK, PAD, EOT int
	// EOSIDs lists every id that ends generation (EOS, EOT and
	// generation_config's eos_token_id list), without duplicates.
	EOSIDs []int

	AddBOS, AddEOS         *bool
	AddSpacePrefix         *bool
	RemoveExtraWhitespaces *bool
	ChatTemplate           string
}

// tokenRef is a special token in tokenizer_config.json: a string, an
// AddedToken object with "content", or null.
type tokenRef string

// UnmarshalJSON accepts a string, an object with "content", or null.
func (t *tokenRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '{':
		var o struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*t = tokenRef(o.Content)
	default:
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = tokenRef(s)
	}
	return nil
}

type tokenizerConfig struct {
	AddBOSToken    *bool           `json:"add_bos_token"`
	AddEOSToken    *bool           `json:"add_eos_token"`
	AddPrefixSpace *bool           `json:"add_prefix_space"`
	BOSToken       tokenRef        `json:"bos_token"`
	EOSToken       tokenRef        `json:"eos_token"`
	UNKToken       tokenRef        `json:"unk_token"`
	PadToken       tokenRef        `json:"pad_token"`
	ChatTemplate   json.RawMessage `json:"chat_template"`
}

// Vocab reads the checkpoint's tokenizer: a SentencePiece tokenizer.model
// when present (as llama.cpp's converter prefers), else tokenizer.json.
// pre overrides the BPE pre-tokenizer name, which is otherwise recognised
// from tokenizer.json.
func (c *Checkpoint) Vocab(pre string) (*Vocab, error) {
	var tc tokenizerConfig
	tcPath := filepath.Join(c.Dir, "tokenizer_config.json")
	if err := readJSONFile(tcPath, maxJSONFile, &tc); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	spmPath := filepath.Join(c.Dir, "tokenizer.model")
	tjPath := filepath.Join(c.Dir, "tokenizer.json")
	var v *Vocab
	var err error
	if _, statErr := os.Stat(spmPath); statErr == nil {
		v, err = c.spmVocab(spmPath, &tc)
	} else if _, statErr := os.Stat(tjPath); statErr == nil {
		v, err = c.bpeVocab(tjPath, &tc, pre)
	} else {
		return nil, fmt.Errorf("%s: no tokenizer: neither tokenizer.model nor tokenizer.json is present", c.Dir)
	}
	if err != nil {
		return nil, err
	}
	v.finish(&tc, c.Config, c.Generation)
	if v.ChatTemplate, err = c.chatTemplate(tcPath, tc.ChatTemplate); err != nil {
		return nil, err
	}
	return v, nil
}

// finish applies tokenizer_config.json's flags and gathers the
// end-of-generation ids.
func (v *Vocab) finish(tc *tokenizerConfig, cfg *Config, gen *GenerationConfig) {
	if tc.AddBOSToken != nil {
		v.AddBOS = tc.AddBOSToken
	}
	if tc.AddEOSToken != nil {
		v.AddEOS = tc.AddEOSToken
	}
	if tc.AddPrefixSpace != nil {
		v.AddSpacePrefix = tc.AddPrefixSpace
	}
	v.collectEOS(cfg, gen)
}

// lookup returns the id of a token text, or -1.
func (v *Vocab) lookup(text tokenRef) int {
	if text == "" {
		return -1
	}
	for i, t := range v.Tokens {
		if t == string(text) {
			return i
		}
	}
	return -1
}

// resolveSpecials fills the special ids from tokenizer_config.json's token
// texts, falling back to config.json's ids (llama.cpp's SpecialVocab order).
func (v *Vocab) resolveSpecials(tc *tokenizerConfig, cfg *Config) {
	pick := func(text tokenRef, ids ...TokenIDs) int {
		if id := v.lookup(text); id >= 0 {
			return id
		}
		for _, l := range ids {
			if id := l.First(); id >= 0 && id < len(v.Tokens) {
				return id
			}
		}
		return -1
	}
	v.BOS = pick(tc.BOSToken, cfg.BOSTokenID)
	v.EOS = pick(tc.EOSToken, cfg.EOSTokenID)
	v.UNK = pick(tc.UNKToken)
	v.PAD = pick(tc.PadToken, cfg.PadTokenID)
	v.EOT = v.lookup("<|eot_id|>")
}

// collectEOS gathers every end-of-generation id.
func (v *Vocab) collectEOS(cfg *Config, gen *GenerationConfig) {
	seen := map[int]bool{}
	add := func(id int) {
		if id >= 0 && id < len(v.Tokens) && !seen[id] {
			seen[id] = true
			v.EOSIDs = append(v.EOSIDs, id)
		}
	}
	add(v.EOS)
	for _, id := range gen.EOSTokenID {
		add(id)
	}
	for _, id := range cfg.EOSTokenID {
		add(id)
	}
	add(v.EOT)
}

func (c *Checkpoint) spmVocab(path string, tc *tokenizerConfig) (*Vocab, error) {
	b, err := readLimited(path, maxTokenizerJSON)
	if err != nil {
		return nil, err
	}
	m, err := ParseSPModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid SentencePiece model: %w", path, err)
	}
	n := c.Config.VocabSize
	if len(m.Pieces) > n {
		return nil, fmt.Errorf("%s: %d pieces, more than config.json's vocab_size %d", path, len(m.Pieces), n)
	}
	v := &Vocab{Model: "llama", Pre: "default", Tokens: make([]string, 0, n), Scores: make([]float32, 0, n), Types: make([]int32, 0, n)}
	for _, p := range m.Pieces {
		v.Tokens = append(v.Tokens, p.Piece)
		v.Scores = append(v.Scores, p.Score)
		v.Types = append(v.Types, p.Type)
	}
	// added_tokens.json (rare) extends the vocabulary with user-defined
	// tokens, as llama.cpp's converter does.
	var added map[string]int
	addedPath := filepath.Join(c.Dir, "added_tokens.json")
	if err := readJSONFile(addedPath, maxJSONFile, &added); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, text := range sortedByValue(added) {
		if v.lookup(tokenRef(text)) >= 0 {
			continue
		}
		if len(v.Tokens) >= n {
			return nil, fmt.Errorf("%s: added token %q does not fit in vocab_size %d", addedPath, text, n)
		}
		v.Tokens = append(v.Tokens, text)
		v.Scores = append(v.Scores, -1000)
		v.Types = append(v.Types, TokenUserDefined)
	}
	for i := 1; len(v.Tokens) < n; i++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("[PAD%d]", i))
		v.Scores = append(v.Scores, -1000)
		v.Types = append(v.Types, TokenUnused)
	}
	v.resolveSpecials(tc, c.Config)
	if v.UNK < 0 && m.UnkID >= 0 && int(m.UnkID) < len(m.Pieces) && m.Pieces[m.UnkID].Type == TokenUnknown {
		v.UNK = int(m.UnkID)
	}
	if v.BOS < 0 && m.BOSID >= 0 && int(m.BOSID) < len(m.Pieces) {
		v.BOS = int(m.BOSID)
	}
	if v.EOS < 0 && m.EOSID >= 0 && int(m.EOSID) < len(m.Pieces) {
		v.EOS = int(m.EOSID)
	}
	t := true
	v.AddBOS = &t // SentencePiece Llama tokenizers prepend BOS
	v.AddSpacePrefix = &m.AddDummyPrefix
	v.RemoveExtraWhitespaces = &m.RemoveExtraWhitespaces
	return v, nil
}

func sortedByValue(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && (m[keys[j]] < m[keys[j-1]] || m[keys[j]] == m[keys[j-1]] && keys[j] < keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func (c *Checkpoint) bpeVocab(path string, tc *tokenizerConfig, pre string) (*Vocab, error) {
	b, err := readLimited(path, maxTokenizerJSON)
	if err != nil {
		return nil, err
	}
	return bpeVocabFrom(path, b, tc, c.Config, pre, filepath.Base(filepath.Clean(c.Dir)))
}

// bpeVocabFrom builds a BPE Vocab from tokenizer.json bytes. hint (the
// model directory name) helps tell apart tokenizers that share a vocabulary.
func bpeVocabFrom(path string, b []byte, tc *tokenizerConfig, cfg *Config, pre, hint string) (*Vocab, error) {
	bv, err := parseTokenizerJSON(path, b, cfg.VocabSize)
	if err != nil {
		return nil, err
	}
	if pre == "" {
		if pre, err = bv.detectPre(hint); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	v := &Vocab{Model: "gpt2", Pre: pre, Tokens: bv.tokens, Types: bv.types, Merges: bv.merges}
	v.resolveSpecials(tc, cfg)
	if v.BOS >= 0 {
		if add, known := bv.addsBOS(v.Tokens[v.BOS]); known {
			v.AddBOS = &add
		}
	}
	return v, nil
}

// chatTemplate returns the chat template: tokenizer_config.json's
// chat_template (a string, or a list of named templates of which we take
// "default"), else a chat_template.jinja or chat_template.json file.
func (c *Checkpoint) chatTemplate(tcPath string, raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, nil
		}
		var named []struct {
			Name     string `json:"name"`
			Template string `json:"template"`
		}
		if err := json.Unmarshal(raw, &named); err != nil {
			return "", fmt.Errorf("%s: chat_template is neither a string nor a list of named templates", tcPath)
		}
		for _, n := range named {
			if n.Name == "default" {
				return n.Template, nil
			}
		}
		if len(named) > 0 {
			return named[0].Template, nil
		}
		return "", nil
	}
	if b, err := readLimited(filepath.Join(c.Dir, "chat_template.jinja"), maxJSONFile); err == nil {
		return string(b), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var ct struct {
		ChatTemplate string `json:"chat_template"`
	}
	if err := readJSONFile(filepath.Join(c.Dir, "chat_template.json"), maxJSONFile, &ct); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	return ct.ChatTemplate, nil
}

// KV returns the tokenizer.ggml.* metadata, with the key names and value
// types llama.cpp uses. tokenizer.ggml.eos_token_ids (all end-of-generation
// ids) is this project's addition; llama.cpp ignores unknown keys.
func (v *Vocab) KV() []gguf.KV {
	kv := []gguf.KV{
		{Key: "tokenizer.ggml.model", Value: v.Model},
	}
	if v.Pre != "" {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.pre", Value: v.Pre})
	}
	kv = append(kv, gguf.KV{Key: "tokenizer.ggml.tokens", Value: gguf.Array{Elem: gguf.String, Values: v.Tokens}})
	if v.Scores != nil {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.scores", Value: gguf.Array{Elem: gguf.Float32, Values: v.Scores}})
	}
	kv = append(kv, gguf.KV{Key: "tokenizer.ggml.token_type", Value: gguf.Array{Elem: gguf.Int32, Values: v.Types}})
	if v.Merges != nil {
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.merges", Value: gguf.Array{Elem: gguf.String, Values: v.Merges}})
	}
	id := func(key string, id int) {
		if id >= 0 {
			kv = append(kv, gguf.KV{Key: key, Value: uint32(id)})
		}
	}
	id("tokenizer.ggml.bos_token_id", v.BOS)
	id("tokenizer.ggml.eos_token_id", v.EOS)
	id("tokenizer.ggml.unknown_token_id", v.UNK)
	id("tokenizer.ggml.padding_token_id", v.PAD)
	id("tokenizer.ggml.eot_token_id", v.EOT)
	if len(v.EOSIDs) > 1 {
		ids := make([]uint32, len(v.EOSIDs))
		for i, e := range v.EOSIDs {
			ids[i] = uint32(e)
		}
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.eos_token_ids", Value: gguf.Array{Elem: gguf.Uint32, Values: ids}})
	}
	flag := func(key string, b *bool) {
		if b != nil {
			kv = append(kv, gguf.KV{Key: key, Value: *b})
		}
	}
	flag("tokenizer.ggml.add_bos_token", v.AddBOS)
	flag("tokenizer.ggml.add_eos_token", v.AddEOS)
	flag("tokenizer.ggml.add_space_prefix", v.AddSpacePrefix)
	flag("tokenizer.ggml.remove_extra_whitespaces", v.RemoveExtraWhitespaces)
	if v.ChatTemplate != "" {
		kv = append(kv, gguf.KV{Key: "tokenizer.chat_template", Value: v.ChatTemplate})
	}
	return kv
}
