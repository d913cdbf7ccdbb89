package verify

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
)

func convertTo(t *testing.T, hf, typ string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "model-"+typ+".gguf")
	gt, err := convert.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: gt}); err != nil {
		t.Fatal(err)
	}
	return out
}

func goldenText(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "prompt.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, `"text": "`) + len(`"text": "`)
	return s[i : i+strings.Index(s[i:], `",`)]
}

// TestRunGolden verifies our conversions of every golden checkpoint in
// every output type the converter writes.
func TestRunGolden(t *testing.T) {
	root := goldenDir(t)
	for _, model := range goldenModels {
		hf := filepath.Join(root, model, "hf")
		prompt := goldenText(t, filepath.Join(root, model))
		for _, typ := range []string{"i2_s", "tl1", "tl2", "f32"} {
			t.Run(model+"/"+typ, func(t *testing.T) {
				rep, err := Run(context.Background(), Options{CheckpointDir: hf, ModelPath: convertTo(t, hf, typ), Prompts: []string{prompt}, Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range rep.Prompts {
					t.Logf("%s: %s, greedy match %v", rep.WeightType, p.Logits, p.GreedyMatch)
				}
			})
		}
	}
}

var tinyLayouts = []convert.Layout{
	{Name: "tiny-b158", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2", Hidden: 256, FFN: 384, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64, Vocab: 1024, Context: 128, RopeTheta: 500000, Tied: true},
	{Name: "tiny-silu", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu", Hidden: 256, FFN: 384, Layers: 2, Heads: 4, KVHeads: 4, HeadDim: 64, Vocab: 1024, Context: 128, RopeTheta: 10000, Tied: true},
	{Name: "tiny-llama", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu", Hidden: 256, FFN: 384, Layers: 2, Heads: 4, KVHeads: 1, HeadDim: 64, Vocab: 1024, Context: 128, RopeTheta: 10000},
}

// TestRunDummy verifies conversions of generated checkpoints of each
// architecture, from bf16 masters and from packed weights.
func TestRunDummy(t *testing.T) {
	for _, l := range tinyLayouts {
		for _, packed := range []bool{false, true} {
			name := l.Name + map[bool]string{false: "/bf16", true: "/packed"}[packed]
			t.Run(name, func(t *testing.T) {
				hf := t.TempDir()
				layout := l
				if err := convert.WriteDummyHF(context.Background(), hf, convert.DummyOptions{Layout: &layout, Packed: packed, Seed: 7}); err != nil {
					t.Fatal(err)
				}
				rep, err := Run(context.Background(), Options{CheckpointDir: hf, ModelPath: convertTo(t, hf, "i2_s"), Prompts: DefaultPrompts[:1], Threads: 2})
				if err != nil {
					if rep != nil && len(rep.Prompts) > 0 {
						t.Logf("%s: failures %q", rep.Prompts[0].Logits, rep.Prompts[0].Failures)
					}
					t.Fatal(err)
				}
				t.Logf("%s: %s", rep.Arch, rep.Prompts[0].Logits)
			})
		}
	}
}

// swapTensors rewrites a GGUF with the data of tensors a and b exchanged
// (they must have the same type and shape).
func swapTensors(t *testing.T, src, dst, a, b string) {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	specs := make([]gguf.TensorSpec, len(f.Tensors))
	for i, ti := range f.Tensors {
		name := ti.Name
		switch name {
		case a:
			name = b
		case b:
			name = a
		}
		data, _ := f.Tensor(name)
		specs[i] = gguf.TensorSpec{Name: ti.Name, Type: ti.Type, Shape: ti.Shape, Write: func(w io.Writer) error {
			_, err := w.Write(data.Data)
			return err
		}}
	}
	if err := gguf.WriteFile(dst, f.KV, specs); err != nil {
		t.Fatal(err)
	}
}

// TestRunDetectsSwappedTensor: a GGUF in which one layer's gate and up
// projections trade places must fail, and --layers must name that layer.
func TestRunDetectsSwappedTensor(t *testing.T) {
	hf := t.TempDir()
	layout := tinyLayouts[0]
	if err := convert.WriteDummyHF(context.Background(), hf, convert.DummyOptions{Layout: &layout, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	good := convertTo(t, hf, "i2_s")
	bad := filepath.Join(t.TempDir(), "swapped.gguf")
	swapTensors(t, good, bad, "blk.1.ffn_gate.weight", "blk.1.ffn_up.weight")
	rep, err := Run(context.Background(), Options{CheckpointDir: hf, ModelPath: bad, Prompts: DefaultPrompts[:1], Threads: 2, Layers: true})
	if !errors.Is(err, ErrNotLossless) {
		t.Fatalf("swapped tensors not detected: err %v", err)
	}
	p := rep.Prompts[0]
	t.Logf("swapped: %s; layer diffs %v; failures %q", p.Logits, p.LayerRelDiff, p.Failures)
	if p.FirstBadLayer != 1 {
		t.Fatalf("first divergent layer %d, want 1 (diffs %v)", p.FirstBadLayer, p.LayerRelDiff)
	}
}

// TestRunDetectsWrongScaleMeaning converts a packed checkpoint as if its
// weight_scale meant W = T·scale (autobitlinear) when it means W = T/scale.
func TestRunDetectsWrongScaleMeaning(t *testing.T) {
	hf := t.TempDir()
	layout := tinyLayouts[2]
	if err := convert.WriteDummyHF(context.Background(), hf, convert.DummyOptions{Layout: &layout, Packed: true, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(hf, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"bitlinear"`) {
		t.Fatalf("dummy packed config does not say bitlinear:\n%s", cfg)
	}
	wrong := t.TempDir()
	entries, _ := os.ReadDir(hf)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(hf, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "config.json" {
			b = []byte(strings.Replace(string(b), `"bitlinear"`, `"autobitlinear"`, 1))
		}
		if err := os.WriteFile(filepath.Join(wrong, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Run(context.Background(), Options{CheckpointDir: hf, ModelPath: convertTo(t, wrong, "i2_s"), Prompts: DefaultPrompts[:1], Threads: 2, Layers: true})
	if !errors.Is(err, ErrNotLossless) {
		t.Fatalf("wrong weight_scale meaning not detected: err %v", err)
	}
	t.Logf("wrong scale: %s; failures %q", rep.Prompts[0].Logits, rep.Prompts[0].Failures)
}
