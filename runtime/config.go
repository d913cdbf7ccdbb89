package runtime

import (
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/gguf"
)

// Config holds a model's hyperparameters as its GGUF metadata states them
// (keys "<arch>.<name>", FORMATS.md §6).
type Config struct {
	Arch       string  // general.architecture
	Layers     int     // block_count
	Embedding  int     // embedding_length (hidden size)
	FFN        int     // feed_forward_length
	Heads      int     // attention.head_count
	KVHeads    int     // attention.head_count_kv (defaults to Heads)
	HeadDim    int     // attention.key_length, else Embedding/Heads
	Vocab      int     // rows of token_embd
	Context    int     // context_length: the longest sequence the model was trained for
	RopeDim    int     // rope.dimension_count, else HeadDim
	RopeBase   float32 // rope.freq_base, else 10000
	RopeNeox   bool    // NEOX (rotate-half) pairs rather than llama's adjacent ones
	NormEps    float32 // attention.layer_norm_rms_epsilon
	TiedOutput bool    // no output.weight: logits come from token_embd
}

// KVDim is the width of one position of one layer in the KV cache.
func (c *Config) KVDim() int { return c.KVHeads * c.HeadDim }

// QDim is the width of the attention queries (all heads).
func (c *Config) QDim() int { return c.Heads * c.HeadDim }

// meta reads typed metadata of one architecture, naming the file and key in
// every error.
type meta struct {
	f    *gguf.File
	path string
	arch string
}

func (m meta) key(name string) string { return m.arch + "." + name }

// uint reads a positive integer key; required keys must be present.
func (m meta) uint(name string, required bool, def int) (int, error) {
	k := m.key(name)
	if _, present := m.f.Get(k); !present {
		if required {
			return 0, fmt.Errorf("%s: missing metadata key %s", m.path, k)
		}
		return def, nil
	}
	v, ok := m.f.Uint(k)
	if !ok || v == 0 || v > math.MaxInt32 {
		got, _ := m.f.Get(k)
		return 0, fmt.Errorf("%s: metadata key %s = %v: want a positive integer", m.path, k, got)
	}
	return int(v), nil
}

func (m meta) float(name string, required bool, def float32) (float32, error) {
	k := m.key(name)
	if _, present := m.f.Get(k); !present {
		if required {
			return 0, fmt.Errorf("%s: missing metadata key %s", m.path, k)
		}
		return def, nil
	}
	v, ok := m.f.Float(k)
	if !ok || !(v > 0) || math.IsInf(v, 0) {
		got, _ := m.f.Get(k)
		return 0, fmt.Errorf("%s: metadata key %s = %v: want a positive number", m.path, k, got)
	}
	return float32(v), nil
}

// readConfig reads and checks the hyperparameters. The vocabulary size is
// filled in later from token_embd.
func readConfig(f *gguf.File, path string, neox bool) (*Config, error) {
	m := meta{f: f, path: path, arch: f.Arch()}
	c := &Config{Arch: m.arch, RopeNeox: neox}
	var err error
	for _, p := range []struct {
		dst      *int
		name     string
		required bool
	}{
		{&c.Layers, "block_count", true},
		{&c.Embedding, "embedding_length", true},
		{&c.FFN, "feed_forward_length", true},
		{&c.Heads, "attention.head_count", true},
		{&c.Context, "context_length", true},
	} {
		if *p.dst, err = m.uint(p.name, p.required, 0); err != nil {
			return nil, err
		}
	}
	if c.KVHeads, err = m.uint("attention.head_count_kv", false, c.Heads); err != nil {
		return nil, err
	}
	if c.HeadDim, err = m.uint("attention.key_length", false, c.Embedding/c.Heads); err != nil {
		return nil, err
	}
	if c.HeadDim == 0 {
		return nil, fmt.Errorf("%s: %d heads do not fit an embedding of %d", path, c.Heads, c.Embedding)
	}
	if vd, err := m.uint("attention.value_length", false, c.HeadDim); err != nil {
		return nil, err
	} else if vd != c.HeadDim {
		return nil, fmt.Errorf("%s: attention.value_length %d differs from key_length %d: not supported", path, vd, c.HeadDim)
	}
	if c.RopeDim, err = m.uint("rope.dimension_count", false, c.HeadDim); err != nil {
		return nil, err
	}
	if c.RopeBase, err = m.float("rope.freq_base", false, 10000); err != nil {
		return nil, err
	}
	if c.NormEps, err = m.float("attention.layer_norm_rms_epsilon", false, 1e-5); err != nil {
		return nil, err
	}
	if c.Heads%c.KVHeads != 0 {
		return nil, fmt.Errorf("%s: %d attention heads are not a multiple of %d KV heads", path, c.Heads, c.KVHeads)
	}
	if c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return nil, fmt.Errorf("%s: rope.dimension_count %d does not fit head size %d", path, c.RopeDim, c.HeadDim)
	}
	// Linear scaling with factor 1 is what bitnet.cpp's converter writes for
	// 1bitLLM models and changes nothing; anything else would need position
	// scaling the kernels do not offer.
	if typ, ok := f.String(m.key("rope.scaling.type")); ok && typ != "none" {
		factor, _ := f.Float(m.key("rope.scaling.factor"))
		if typ != "linear" || (factor != 0 && factor != 1) {
			return nil, fmt.Errorf("%s: rope scaling %q with factor %g is not supported", path, typ, factor)
		}
	}
	return c, nil
}
