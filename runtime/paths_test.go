package runtime

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/kernels"
)

// TestKernelPathsSameOutput runs a small model whose shapes take every
// vector kernel (dimensions multiples of 256, head size 64, GQA, SiLU and
// ReLU², F16 and Q6_K heads) once per kernel path the CPU offers: prompt
// logits, batched logits and greedy tokens must equal the pure-Go
// references' bit for bit.
func TestKernelPathsSameOutput(t *testing.T) {
	layouts := []convert.Layout{
		{Name: "paths-silu", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu", Hidden: 256, FFN: 512,
			Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64, Vocab: 1000, Context: 128, RopeTheta: 10000},
		{Name: "paths-relu2", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2", Hidden: 256, FFN: 768,
			Layers: 2, Heads: 4, KVHeads: 1, HeadDim: 64, Vocab: 1000, Context: 128, RopeTheta: 500000, Tied: true},
	}
	for _, l := range layouts {
		for _, embed := range []string{"f16", "q6_k"} {
			et, err := convert.ParseEmbedType(embed)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.gguf")
			err = convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: &l, Type: gguf.I2_S, EmbedType: et, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			var want *pathRun
			var compared []string
			for _, p := range kernels.AvailablePaths() {
				if err := kernels.UsePath(p); err != nil {
					continue
				}
				got := runPaths(t, path)
				compared = append(compared, p)
				if want == nil {
					want = got
					continue
				}
				if !slices.Equal(got.tokens, want.tokens) {
					t.Errorf("%s %s %s: greedy %v, generic %v", l.Name, embed, p, got.tokens, want.tokens)
				}
				for i := range got.logits {
					if math.Float32bits(got.logits[i]) != math.Float32bits(want.logits[i]) {
						t.Fatalf("%s %s %s: logit %d = %v, generic %v", l.Name, embed, p, i, got.logits[i], want.logits[i])
					}
				}
			}
			t.Logf("%s, %s head: %d logits and %d greedy tokens identical on %v", l.Name, embed, len(want.logits), len(want.tokens), compared)
		}
	}
	// Restore the default path for the other tests.
	if err := kernels.UsePath(kernels.DefaultPath()); err != nil {
		t.Fatal(err)
	}
}

type pathRun struct {
	logits []float32
	tokens []int32
}

// runPaths: the logits of every position of a 40-token prompt (one
// multi-token forward), then 12 greedy tokens fed to that sequence and to a
// second one, whose logits are kept too.
func runPaths(t *testing.T, path string) *pathRun {
	t.Helper()
	m, err := Load(path, Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	prompt := make([]int32, 40)
	for i := range prompt {
		prompt[i] = int32(i*37%999 + 1)
	}
	s := m.NewSession(2)
	a, err := s.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	var r pathRun
	lg, err := a.PromptLogits(prompt)
	if err != nil {
		t.Fatal(err)
	}
	r.logits = append(r.logits, lg...)
	if err := b.Prompt(prompt[:7]); err != nil {
		t.Fatal(err)
	}
	for range 12 {
		tok := int32(argmax(a.Logits()))
		r.tokens = append(r.tokens, tok)
		if err := a.Decode(tok); err != nil {
			t.Fatal(err)
		}
		if err := b.Decode(tok); err != nil {
			t.Fatal(err)
		}
		r.logits = append(r.logits, b.Logits()...)
	}
	return &r
}
