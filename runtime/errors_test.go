package runtime

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// TestLoadErrors: broken files fail to load with a message naming the
// problem, never a panic.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		spec func(*tinySpec)
		opts Options
		want string
	}{
		{"missing tensor", func(s *tinySpec) { s.omit = "blk.1.attn_k.weight" }, Options{}, "missing tensor blk.1.attn_k.weight"},
		{"missing sub-norm", func(s *tinySpec) { s.omit = "blk.0.ffn_sub_norm.weight" }, Options{}, "missing tensor blk.0.ffn_sub_norm.weight"},
		{"missing embedding", func(s *tinySpec) { s.omit = "token_embd.weight" }, Options{}, "missing tensor token_embd.weight"},
		{"wrong shape", func(s *tinySpec) { s.reshape = "blk.0.ffn_down.weight" }, Options{}, "tensor blk.0.ffn_down.weight: shape [256 256], want [512 256]"},
		{"wrong norm shape", func(s *tinySpec) { s.reshape = "output_norm.weight" }, Options{}, "tensor output_norm.weight: shape [128], want [256]"},
		{"unknown architecture", func(s *tinySpec) {
			s.extraKV = append(s.extraKV, gguf.KV{Key: "general.architecture", Value: "mamba"})
		}, Options{}, `unknown architecture "mamba"`},
		{"no architecture", func(s *tinySpec) { s.dropKV = "general.architecture" }, Options{}, "no general.architecture"},
		{"context too long", func(*tinySpec) {}, Options{Context: 65}, "context 65 is longer than the model allows (bitnet-b1.58.context_length = 64)"},
		{"missing key", func(s *tinySpec) { s.dropKV = "bitnet-b1.58.block_count" }, Options{}, "missing metadata key bitnet-b1.58.block_count"},
		{"bad key type", func(s *tinySpec) {
			s.extraKV = append(s.extraKV, gguf.KV{Key: "bitnet-b1.58.embedding_length", Value: "big"})
		}, Options{}, `bitnet-b1.58.embedding_length = big: want a positive integer`},
		{"bad GQA", func(s *tinySpec) {
			s.extraKV = append(s.extraKV, gguf.KV{Key: "bitnet-b1.58.attention.head_count_kv", Value: uint32(3)})
		}, Options{}, "4 attention heads are not a multiple of 3 KV heads"},
		{"rope scaling", func(s *tinySpec) {
			s.extraKV = append(s.extraKV, gguf.KV{Key: "bitnet-b1.58.rope.scaling.type", Value: "linear"},
				gguf.KV{Key: "bitnet-b1.58.rope.scaling.factor", Value: float32(4)})
		}, Options{}, `rope scaling "linear" with factor 4 is not supported`},
		{"extra block", func(s *tinySpec) {
			s.extraKV = append(s.extraKV, gguf.KV{Key: "bitnet-b1.58.block_count", Value: uint32(1)})
		}, Options{}, "tensor blk.1.attn_norm.weight exists but block_count is 1"},
		{"TL2 tiling unknown", func(s *tinySpec) { s.proj, s.ffn, s.noTLMeta = gguf.TL2, 768, true }, Options{}, "TL2 tiling for 768×256 unknown"},
		{"negative context", func(*tinySpec) {}, Options{Context: -1}, "must not be negative"},
		{"NaN in a norm", func(s *tinySpec) {
			s.tweak = func(w *tinyWeights) { w.layers[1].ffnNorm[7] = math.NaN() }
		}, Options{}, "tensor blk.1.ffn_norm.weight: element 7 is NaN"},
		{"NaN in the F32 embedding, checked", func(s *tinySpec) {
			s.tweak = func(w *tinyWeights) { w.embed[5] = math.NaN() }
		}, Options{CheckTensors: true}, "tensor token_embd.weight: element 5 is NaN or infinite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := defaultTiny("bitnet-b1.58")
			tt.spec(&spec)
			path, _ := spec.write(t, t.TempDir())
			m, err := Load(path, tt.opts)
			if err == nil {
				m.Close()
				t.Fatalf("loaded; want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadNotGGUF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gguf")
	if err := os.WriteFile(path, []byte("not a gguf file at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, Options{}); err == nil {
		t.Error("loaded a text file")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.gguf"), Options{}); err == nil {
		t.Error("loaded a missing file")
	}
}

// TestLoadVariants: F16 projections and embeddings, untied heads and the
// default context load and report their configuration.
func TestLoadVariants(t *testing.T) {
	spec := defaultTiny("llama")
	spec.proj, spec.embed, spec.untied = gguf.F16, gguf.F16, true
	m := loadTiny(t, spec, Options{Threads: 1})
	c := m.Config()
	if c.TiedOutput || c.RopeNeox || c.Vocab != 64 || c.HeadDim != 64 || c.KVDim() != 128 || m.Context() != 64 {
		t.Errorf("config %+v, context %d", c, m.Context())
	}
	if m.Tokenizer() != nil {
		t.Error("a file without tokenizer metadata has a tokenizer")
	}
	_ = promptLogits(t, m, []int32{1, 2, 3})
}
