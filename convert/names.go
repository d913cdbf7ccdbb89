package convert

import (
	"strconv"
	"strings"
)

// layerNames maps the per-layer part of a Hugging Face tensor name to the
// per-block GGUF name (FORMATS.md §6). Both spellings of the BitNet
// sub-norms (2B-4T's attn_sub_norm/ffn_sub_norm and 1bitLLM's
// inner_attn_ln/ffn_layernorm) map to the same GGUF tensors.
var layerNames = map[string]string{
	"input_layernorm.weight":          "attn_norm.weight",
	"self_attn.q_proj.weight":         "attn_q.weight",
	"self_attn.k_proj.weight":         "attn_k.weight",
	"self_attn.v_proj.weight":         "attn_v.weight",
	"self_attn.o_proj.weight":         "attn_output.weight",
	"self_attn.attn_sub_norm.weight":  "attn_sub_norm.weight",
	"self_attn.inner_attn_ln.weight":  "attn_sub_norm.weight",
	"post_attention_layernorm.weight": "ffn_norm.weight",
	"mlp.gate_proj.weight":            "ffn_gate.weight",
	"mlp.up_proj.weight":              "ffn_up.weight",
	"mlp.down_proj.weight":            "ffn_down.weight",
	"mlp.ffn_sub_norm.weight":         "ffn_sub_norm.weight",
	"mlp.ffn_layernorm.weight":        "ffn_sub_norm.weight",
}

// globalNames maps the tensors outside the layers.
var globalNames = map[string]string{
	"model.embed_tokens.weight": "token_embd.weight",
	"model.norm.weight":         "output_norm.weight",
	"lm_head.weight":            "output.weight",
}

// GGUFName returns the GGUF tensor name for a Hugging Face tensor name, and
// false for names that have no GGUF counterpart (weight_scale tensors, which
// are folded into their weight, and unknown tensors).
func GGUFName(hf string) (string, bool) {
	if g, ok := globalNames[hf]; ok {
		return g, true
	}
	layer, rest, ok := splitLayerName(hf)
	if !ok {
		return "", false
	}
	g, ok := layerNames[rest]
	if !ok {
		return "", false
	}
	return "blk." + strconv.Itoa(layer) + "." + g, true
}

// splitLayerName splits "model.layers.N.rest" into N and rest.
func splitLayerName(hf string) (int, string, bool) {
	const prefix = "model.layers."
	if !strings.HasPrefix(hf, prefix) {
		return 0, "", false
	}
	s := hf[len(prefix):]
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot > 7 {
		return 0, "", false
	}
	n, err := strconv.Atoi(s[:dot])
	if err != nil || n < 0 || strconv.Itoa(n) != s[:dot] {
		return 0, "", false
	}
	return n, s[dot+1:], true
}

// ignoredTensor reports HF tensors that carry no weights a GGUF needs:
// rotary caches some checkpoints still save.
func ignoredTensor(hf string) bool {
	return strings.HasSuffix(hf, ".rotary_emb.inv_freq")
}
