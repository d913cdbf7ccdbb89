package convert_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
)

// A tiny model of the BitNet b1.58 2B-4T architecture, for examples.
var tiny = convert.Layout{
	Name: "tiny", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
	Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
	Vocab: 1024, Context: 512, RopeTheta: 500000, Tied: true,
}

// Convert a Hugging Face checkpoint (here a dummy one) to an I2_S GGUF.
func ExampleConvert() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	ckpt := filepath.Join(dir, "checkpoint")
	ctx := context.Background()
	if err := convert.WriteDummyHF(ctx, ckpt, convert.DummyOptions{Layout: &tiny, Seed: 1}); err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(dir, "model.gguf")
	if err := convert.Convert(ctx, ckpt, out, convert.Options{Type: gguf.I2_S}); err != nil {
		log.Fatal(err)
	}
	f, err := gguf.Open(out)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	q, _ := f.Tensor("blk.0.attn_q.weight")
	fmt.Println(f.Arch(), len(f.Tensors), "tensors;", q.Name, q.Type, q.Shape)
	// Output: bitnet-b1.58 24 tensors; blk.0.attn_q.weight I2_S [256 256]
}

// Read a checkpoint's weights the way the reference forward pass does: as
// ternary codes and a scale, with Hugging Face semantics.
func ExampleOpenCheckpoint() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := convert.WriteDummyHF(context.Background(), dir, convert.DummyOptions{Layout: &tiny, Seed: 1, Packed: true}); err != nil {
		log.Fatal(err)
	}
	ck, err := convert.OpenCheckpoint(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer ck.Close()
	w, err := ck.Ternary("model.layers.0.mlp.down_proj.weight")
	if err != nil {
		log.Fatal(err)
	}
	g, _ := convert.GGUFName("model.layers.0.mlp.down_proj.weight")
	fmt.Println(ck.Arch.Name, ck.Arch.LinearClass, w.Rows, w.Cols, len(w.T), "→", g)
	// Output: bitnet-b1.58 autobitlinear 256 512 131072 → blk.0.ffn_down.weight
}
