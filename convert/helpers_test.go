package convert

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Tiny layouts of each architecture, small enough for unit tests but with
// every feature: GQA, sub-norms, untied heads, K and M multiples of 128 so
// that every output type (TL2 needs K ≥ 256) can hold them.
var (
	tinyB158 = Layout{
		Name: "tiny-b158", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
		Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		Vocab: 640, Context: 256, RopeTheta: 500000, Tied: true,
	}
	tinySilu = Layout{
		Name: "tiny-silu", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu",
		Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 4, HeadDim: 64,
		Vocab: 600, Context: 256, RopeTheta: 10000, Tied: true,
	}
	tinyLlama = Layout{
		Name: "tiny-llama", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu",
		Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		Vocab: 512, Context: 256, RopeTheta: 10000, Tied: false,
	}
	// tinyFalcon3 is tinyLlama with Falcon3's built-in tokenizer.
	tinyFalcon3 = Layout{
		Name: "tiny-falcon3", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu",
		Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
		Vocab: 512, Context: 256, RopeTheta: 1000042, Tied: false, RMSEps: 1e-6,
		Tokenizer: TokenizerFalcon3,
	}
)

// writeTinyHF writes a tiny dummy checkpoint into a new temporary directory.
func writeTinyHF(t *testing.T, l Layout, opts DummyOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), l.Name)
	opts.Layout = &l
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	if err := WriteDummyHF(context.Background(), dir, opts); err != nil {
		t.Fatalf("WriteDummyHF(%s): %v", l.Name, err)
	}
	return dir
}

// copyDir copies a flat directory (a checkpoint) so a test can damage it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// dirEntries lists a directory's file names.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
