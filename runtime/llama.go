package runtime

import "github.com/bitnet-go/bitnet/kernels"

// The llama family: ternary Llama-3 and Falcon3 models (FORMATS.md §6).
// Stock llama blocks (no sub-norms, SiLU gate), NORM rope on q and k rows
// that the converter permuted, output.weight when present.
func init() {
	register("llama", family{neox: false, load: loadLlamaLayer})
}

type llamaLayer struct {
	attn attention
	ffn  feedForward
}

func (l *llamaLayer) matmuls() []*group {
	return []*group{&l.attn.qkv, &l.attn.oG, &l.ffn.gateUp, &l.ffn.downG}
}

func loadLlamaLayer(ld *loader, c *Config, il int) (layer, error) {
	l := &llamaLayer{}
	var err error
	if l.attn, err = loadAttention(ld, c, il); err != nil {
		return nil, err
	}
	if l.ffn, err = loadFeedForward(ld, c, il); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *llamaLayer) forward(s *state, il int) {
	s.attention(&l.attn, il, nil)
	s.feedForward(&l.ffn, kernels.SiLUMul, nil)
}
