package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// maxJSONFile bounds the size of the small JSON files we read whole
// (config.json, tokenizer_config.json, ...): none is legitimately this big,
// and a bound keeps a corrupt or hostile file from exhausting memory.
const maxJSONFile = 64 << 20

// maxTokenizerJSON bounds tokenizer.json, which for large vocabularies
// (Llama 3, 280k merges) is around 10 MB.
const maxTokenizerJSON = 256 << 20

// Config is the part of a Hugging Face config.json that the conversion needs.
type Config struct {
	Architectures         []string            `json:"architectures"`
	ModelType             string              `json:"model_type"`
	HiddenSize            int                 `json:"hidden_size"`
	IntermediateSize      int                 `json:"intermediate_size"`
	NumHiddenLayers       int                 `json:"num_hidden_layers"`
	NumAttentionHeads     int                 `json:"num_attention_heads"`
	NumKeyValueHeads      int                 `json:"num_key_value_heads"` // 0 in the file means MHA; filled in by readConfig
	HeadDim               int                 `json:"head_dim"`            // 0 in the file means hidden/heads; filled in by readConfig
	VocabSize             int                 `json:"vocab_size"`
	MaxPositionEmbeddings int                 `json:"max_position_embeddings"`
	RMSNormEps            float64             `json:"rms_norm_eps"`
	RopeTheta             float64             `json:"rope_theta"`
	RopeScaling           *RopeScaling        `json:"rope_scaling"`
	HiddenAct             string              `json:"hidden_act"`
	TieWordEmbeddings     *bool               `json:"tie_word_embeddings"`
	AttentionBias         bool                `json:"attention_bias"`
	MLPBias               bool                `json:"mlp_bias"`
	TorchDType            string              `json:"torch_dtype"`
	BOSTokenID            TokenIDs            `json:"bos_token_id"`
	EOSTokenID            TokenIDs            `json:"eos_token_id"`
	PadTokenID            TokenIDs            `json:"pad_token_id"`
	Quantization          *QuantizationConfig `json:"quantization_config"`
}

// RopeScaling is config.json's rope_scaling object.
type RopeScaling struct {
	Type                          string  `json:"type"`
	RopeType                      string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor"`
	HighFreqFactor                float64 `json:"high_freq_factor"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings"`
}

// Kind returns the scaling kind, whichever of the two keys transformers
// versions used to spell it.
func (r *RopeScaling) Kind() string {
	if r == nil {
		return ""
	}
	if r.RopeType != "" {
		return r.RopeType
	}
	return r.Type
}

// QuantizationConfig is transformers' BitNet quantization_config.
type QuantizationConfig struct {
	QuantMethod      string `json:"quant_method"`
	LinearClass      string `json:"linear_class"`
	QuantizationMode string `json:"quantization_mode"`
}

// TokenIDs is a token id field that config files write either as one
// integer, a list of integers, or null.
type TokenIDs []int

// UnmarshalJSON accepts an integer, a list of integers, or null.
func (t *TokenIDs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*t = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var ids []int
		if err := json.Unmarshal(b, &ids); err != nil {
			return err
		}
		*t = ids
		return nil
	}
	var id int
	if err := json.Unmarshal(b, &id); err != nil {
		return err
	}
	*t = TokenIDs{id}
	return nil
}

// First returns the first id, or -1.
func (t TokenIDs) First() int {
	if len(t) == 0 {
		return -1
	}
	return t[0]
}

// GenerationConfig is the part of generation_config.json we use.
type GenerationConfig struct {
	BOSTokenID TokenIDs `json:"bos_token_id"`
	EOSTokenID TokenIDs `json:"eos_token_id"`
	PadTokenID TokenIDs `json:"pad_token_id"`
}

// readJSONFile decodes a small JSON file into v. A missing file is reported
// with an error wrapping fs.ErrNotExist so that callers can treat optional
// files as absent.
func readJSONFile(path string, limit int64, v any) error {
	b, err := readLimited(path, limit)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, describeJSONError(b, err))
	}
	return nil
}

// readLimited reads a whole file, refusing files larger than limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d a file of this kind may have", path, st.Size(), limit)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// describeJSONError adds a line/column position to json syntax and type
// errors, which by themselves only give a byte offset or a Go type.
func describeJSONError(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64 = -1
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Errorf("field %q: JSON %s where %s was expected", te.Field, te.Value, te.Type)
		}
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d column %d: %w", line, col, err)
}

// readConfig reads and validates dir/config.json.
func readConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	b, err := readLimited(path, maxJSONFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a Hugging Face checkpoint: config.json is missing", dir)
		}
		return nil, err
	}
	return parseConfig(path, b)
}

// parseConfig decodes and validates the bytes of a config.json; path names
// the file in errors.
func parseConfig(path string, b []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, describeJSONError(b, err))
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

// maxDim bounds every size in config.json. It is far above any real model
// and keeps products such as heads*head_dim*hidden inside int64.
const maxDim = 1 << 22

func (c *Config) validate() error {
	if len(c.Architectures) == 0 {
		return errors.New(`field "architectures" is missing or empty`)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize},
		{"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads},
		{"vocab_size", c.VocabSize},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("field %q must be a positive integer (got %d)", p.name, p.v)
		}
		if p.v > maxDim {
			return fmt.Errorf("field %q = %d is implausibly large", p.name, p.v)
		}
	}
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if c.NumKeyValueHeads < 0 || c.NumKeyValueHeads > c.NumAttentionHeads || c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("num_key_value_heads = %d must divide num_attention_heads = %d", c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if c.HeadDim == 0 {
		if c.HiddenSize%c.NumAttentionHeads != 0 {
			return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d (and head_dim is not given)", c.HiddenSize, c.NumAttentionHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	if c.HeadDim < 0 || c.HeadDim > maxDim || c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim = %d must be a positive even integer", c.HeadDim)
	}
	if c.MaxPositionEmbeddings < 0 || c.MaxPositionEmbeddings > math.MaxUint32 {
		return fmt.Errorf("field \"max_position_embeddings\" = %d is out of range (0 to %d, GGUF's context_length is a uint32)", c.MaxPositionEmbeddings, uint32(math.MaxUint32))
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6 // transformers' LlamaConfig default
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) {
		return fmt.Errorf("rms_norm_eps = %v is out of range", c.RMSNormEps)
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000 // transformers' default
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta = %v is out of range", c.RopeTheta)
	}
	if c.AttentionBias || c.MLPBias {
		return errors.New("attention_bias/mlp_bias are set: projections with biases are not supported by bitnet.cpp's ternary layouts")
	}
	return nil
}

// Architecture returns the first entry of "architectures".
func (c *Config) Architecture() string { return c.Architectures[0] }

// readGenerationConfig reads dir/generation_config.json; a missing file
// yields a zero GenerationConfig.
func readGenerationConfig(dir string) (*GenerationConfig, error) {
	var g GenerationConfig
	err := readJSONFile(filepath.Join(dir, "generation_config.json"), maxJSONFile, &g)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return &g, nil
}
