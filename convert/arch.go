package convert

import (
	"fmt"
	"strings"
)

// GGUF architecture names written by this package.
const (
	ArchBitnetB158 = "bitnet-b1.58" // BitNet b1.58 2B-4T style: ReLU² FFN, sub-norms
	ArchBitnet     = "bitnet"       // 1bitLLM style: SiLU FFN, sub-norms
	ArchLlama      = "llama"        // ternary Llama (Llama3-8B-1.58, Falcon3-1.58bit)
)

// Scale semantics of a packed weight_scale (quantization_config.linear_class).
const (
	LinearClassBitLinear     = "bitlinear"     // W = T / weight_scale (the default)
	LinearClassAutoBitLinear = "autobitlinear" // W = T * weight_scale
)

// Arch is what the HF architecture and config decide about a model's GGUF
// form. It is the one table of these facts (FORMATS.md §6).
type Arch struct {
	// Name is the GGUF general.architecture.
	Name string
	// HFArchitecture is config.json's architectures[0].
	HFArchitecture string
	// Activation is the FFN gate activation: "relu2" or "silu".
	Activation string
	// SubNorms: the model has attn_sub_norm and ffn_sub_norm.
	SubNorms bool
	// PermuteQK: q/k rows are permuted for ggml's NORM rope, as llama.cpp's
	// converter does for the llama architecture. The bitnet architectures use
	// NEOX rope on unpermuted weights.
	PermuteQK bool
	// LinearClass gives the meaning of weight_scale in packed checkpoints.
	LinearClass string
}

// resolveArch applies the architecture table to a config.
func resolveArch(c *Config) (*Arch, error) {
	hf := c.Architecture()
	act := strings.ToLower(c.HiddenAct)
	a := &Arch{HFArchitecture: hf, LinearClass: LinearClassBitLinear}
	if q := c.Quantization; q != nil && q.LinearClass != "" {
		switch lc := strings.ToLower(q.LinearClass); lc {
		case LinearClassBitLinear, LinearClassAutoBitLinear:
			a.LinearClass = lc
		default:
			return nil, fmt.Errorf("quantization_config.linear_class %q is unknown (want %q or %q): cannot tell what weight_scale means",
				q.LinearClass, LinearClassBitLinear, LinearClassAutoBitLinear)
		}
	}
	switch hf {
	case "BitNetForCausalLM", "BitnetForCausalLM":
		// The two spellings are different model families, but what matters
		// for the graph is the activation, so decide from hidden_act.
		a.SubNorms = true
		switch act {
		case "relu2":
			a.Name, a.Activation = ArchBitnetB158, "relu2"
		case "silu", "swish":
			a.Name, a.Activation = ArchBitnet, "silu"
		case "":
			return nil, fmt.Errorf("%s without hidden_act: cannot tell ReLU² (bitnet-b1.58) from SiLU (bitnet)", hf)
		default:
			return nil, fmt.Errorf("%s with hidden_act %q is not supported (want relu2 or silu)", hf, c.HiddenAct)
		}
	case "LlamaForCausalLM":
		q := c.Quantization
		if q == nil || !strings.EqualFold(q.QuantMethod, "bitnet") {
			return nil, fmt.Errorf("%s without quantization_config.quant_method = \"bitnet\" is an ordinary (non-ternary) Llama model; bitnet converts only ternary checkpoints", hf)
		}
		if act != "silu" && act != "" {
			return nil, fmt.Errorf("%s with hidden_act %q is not supported (want silu)", hf, c.HiddenAct)
		}
		a.Name, a.Activation, a.PermuteQK = ArchLlama, "silu", true
	default:
		return nil, fmt.Errorf("architecture %q is not supported (supported: BitNetForCausalLM, BitnetForCausalLM, LlamaForCausalLM with quant_method bitnet)", hf)
	}
	return a, nil
}
