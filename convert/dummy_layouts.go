package convert

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Layout is the shape of a dummy model: a real architecture with chosen
// sizes.
type Layout struct {
	Name           string
	HFArchitecture string // BitNetForCausalLM, BitnetForCausalLM or LlamaForCausalLM
	HiddenAct      string // relu2 or silu
	Hidden         int
	FFN            int
	Layers         int
	Heads          int
	KVHeads        int
	HeadDim        int
	Vocab          int
	Context        int
	RopeTheta      float64
	Tied           bool // no separate output head
	// RMSEps is rms_norm_eps; 0 means 1e-5 (BitNet, Llama 3). Falcon3's
	// 1.58-bit configs say 1e-6.
	RMSEps float64
	// Embed is the token embedding type of the model's published GGUF,
	// which a ternary dummy uses when no embedding type is asked for:
	// EmbedDefault (F16) for most, Q8_0 for 1bitLLM's 3B as bitnet.cpp
	// wrote it (FORMATS.md §10).
	Embed EmbedType
	// Tokenizer is the family of the built-in tokenizer the dummy carries:
	// Llama 3's (the zero value) or Falcon3's for the falcon3-* layouts.
	Tokenizer DummyTokenizer
}

// sizeLayout is one of bitnet.cpp's generate-dummy-bitnet-model sizes
// (FORMATS.md §8): 1bitLLM-style models (BitnetForCausalLM, SiLU, MHA,
// the bitnet_b1_58 32002-token vocabulary).
func sizeLayout(name string, hidden, ffn, layers, heads int) Layout {
	return Layout{
		Name: name, HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu",
		Hidden: hidden, FFN: ffn, Layers: layers, Heads: heads, KVHeads: heads, HeadDim: hidden / heads,
		Vocab: 32002, Context: 2048, RopeTheta: 10000, Tied: true,
	}
}

// falcon3Layout is a Falcon3-*-1.58bit shape (public model cards: head_dim
// 256, 4 KV heads, θ = 1000042, 131072-token vocabulary).
func falcon3Layout(name string, hidden, ffn, layers, heads, ctx int) Layout {
	return Layout{
		Name: name, HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu",
		Hidden: hidden, FFN: ffn, Layers: layers, Heads: heads, KVHeads: 4, HeadDim: 256,
		Vocab: 131072, Context: ctx, RopeTheta: 1000042, Tied: false, RMSEps: 1e-6,
		Tokenizer: TokenizerFalcon3,
	}
}

var layouts = []Layout{
	sizeLayout("125M", 768, 3072, 11, 12),
	sizeLayout("350M", 1024, 3072, 24, 16),
	sizeLayout("1B", 2048, 3584, 24, 32),
	sizeLayout("1.5B", 1536, 9216, 28, 32),
	sizeLayout("2.7B", 3072, 7680, 24, 32),
	sizeLayout("3.8B", 3840, 8192, 24, 32),
	sizeLayout("7B", 4096, 12032, 32, 32),
	sizeLayout("13B", 5120, 13824, 40, 40),
	sizeLayout("30B", 6656, 16384, 60, 52),
	sizeLayout("70B", 8192, 24576, 80, 64),
	sizeLayout("100B", 8192, 45568, 72, 64),
	{
		Name: "2B-4T", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
		Hidden: 2560, FFN: 6912, Layers: 30, Heads: 20, KVHeads: 5, HeadDim: 128,
		Vocab: 128256, Context: 4096, RopeTheta: 500000, Tied: true,
	},
	{
		Name: "large", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu",
		Hidden: 1536, FFN: 4096, Layers: 24, Heads: 16, KVHeads: 16, HeadDim: 96,
		Vocab: 32002, Context: 2048, RopeTheta: 10000, Tied: true,
	},
	{
		Name: "3B", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu",
		Hidden: 3200, FFN: 8640, Layers: 26, Heads: 32, KVHeads: 32, HeadDim: 100,
		Vocab: 32002, Context: 2048, RopeTheta: 10000, Tied: true, Embed: EmbedQ8_0,
	},
	{
		Name: "llama3-8B", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu",
		Hidden: 4096, FFN: 14336, Layers: 32, Heads: 32, KVHeads: 8, HeadDim: 128,
		Vocab: 128256, Context: 8192, RopeTheta: 500000, Tied: false,
	},
	falcon3Layout("falcon3-1B", 2048, 8192, 18, 8, 8192),
	falcon3Layout("falcon3-3B", 3072, 9216, 22, 12, 32768),
	falcon3Layout("falcon3-7B", 3072, 23040, 28, 12, 32768),
	falcon3Layout("falcon3-10B", 3072, 23040, 40, 12, 32768),
}

// Layouts returns the names of the dummy layouts: bitnet.cpp's sizes
// (125M … 100B) and the real models' shapes.
func Layouts() []string {
	names := make([]string, len(layouts))
	for i, l := range layouts {
		names[i] = l.Name
	}
	return names
}

// LookupLayout finds a layout by name (case-insensitive).
func LookupLayout(name string) (Layout, error) {
	i := slices.IndexFunc(layouts, func(l Layout) bool { return strings.EqualFold(l.Name, name) })
	if i < 0 {
		return Layout{}, fmt.Errorf("unknown dummy size %q (known: %s)", name, strings.Join(Layouts(), ", "))
	}
	return layouts[i], nil
}

// config returns the layout as a Hugging Face config.
func (l Layout) config() *Config {
	tied := l.Tied
	c := &Config{
		Architectures:         []string{l.HFArchitecture},
		ModelType:             "llama",
		HiddenSize:            l.Hidden,
		IntermediateSize:      l.FFN,
		NumHiddenLayers:       l.Layers,
		NumAttentionHeads:     l.Heads,
		NumKeyValueHeads:      l.KVHeads,
		HeadDim:               l.HeadDim,
		VocabSize:             l.Vocab,
		MaxPositionEmbeddings: l.Context,
		RMSNormEps:            cmp.Or(l.RMSEps, 1e-5),
		RopeTheta:             l.RopeTheta,
		HiddenAct:             l.HiddenAct,
		TieWordEmbeddings:     &tied,
		TorchDType:            "bfloat16",
	}
	switch l.HFArchitecture {
	case "BitNetForCausalLM":
		c.ModelType = "bitnet"
		c.Quantization = &QuantizationConfig{QuantMethod: "bitnet", LinearClass: LinearClassAutoBitLinear, QuantizationMode: "online"}
	case "LlamaForCausalLM":
		c.Quantization = &QuantizationConfig{QuantMethod: "bitnet", LinearClass: LinearClassBitLinear, QuantizationMode: "online"}
	}
	return c
}
