package runtime

import "github.com/bitnet-go/bitnet/kernels"

// The BitNet family (FORMATS.md §6): a llama block with an RMSNorm before the
// attention output projection and another before the down projection, NEOX
// rope, and an output head tied to the embedding unless output.weight exists.
// "bitnet-b1.58" (and bitnet.cpp's older name "bitnet-25") gate with ReLU²,
// as BitNet b1.58 2B-4T does; "bitnet" (1bitLLM models) with SiLU.
func init() {
	relu2 := family{neox: true, load: bitnetLoader(kernels.ReLU2Mul)}
	register("bitnet-b1.58", relu2)
	register("bitnet-25", relu2)
	register("bitnet", family{neox: true, load: bitnetLoader(kernels.SiLUMul)})
}

type bitnetLayer struct {
	attn        attention
	attnSubNorm []float32
	ffn         feedForward
	ffnSubNorm  []float32
	act         gateFunc
}

func (l *bitnetLayer) matmuls() []*group {
	return []*group{&l.attn.qkv, &l.attn.oG, &l.ffn.gateUp, &l.ffn.downG}
}

func bitnetLoader(act gateFunc) func(*loader, *Config, int) (layer, error) {
	return func(ld *loader, c *Config, il int) (layer, error) {
		l := &bitnetLayer{act: act}
		var err error
		if l.attn, err = loadAttention(ld, c, il); err != nil {
			return nil, err
		}
		if l.attnSubNorm, err = ld.vector(blockName(il, "attn_sub_norm"), c.QDim()); err != nil {
			return nil, err
		}
		if l.ffn, err = loadFeedForward(ld, c, il); err != nil {
			return nil, err
		}
		if l.ffnSubNorm, err = ld.vector(blockName(il, "ffn_sub_norm"), c.FFN); err != nil {
			return nil, err
		}
		return l, nil
	}
}

func (l *bitnetLayer) forward(s *state, il int) {
	s.attention(&l.attn, il, l.attnSubNorm)
	s.feedForward(&l.ffn, l.act, l.ffnSubNorm)
}
