package verify

import (
	"fmt"
	"math"
	"strings"

	"github.com/bitnet-go/bitnet/convert"
)

// Reference is a float64 forward pass of a Hugging Face ternary checkpoint.
type Reference struct {
	cfg        refConfig
	embed      matrix // [vocab][hidden]
	layers     []refLayer
	outputNorm []float64
	head       matrix // the embedding when tied
}

type refConfig struct {
	hidden, ffn, heads, kvHeads, headDim, vocab int
	eps, ropeTheta                              float64
	activation                                  string // "relu2" or "silu"
	subNorms                                    bool
	ropeScaling                                 *convert.RopeScaling
}

type refLayer struct {
	attnNorm, ffnNorm, attnSubNorm, ffnSubNorm []float64
	q, k, v, o, gate, up, down                 bitLinear
}

// matrix is a dense row-major [rows][cols] float64 matrix.
type matrix struct {
	rows, cols int
	w          []float64
}

// bitLinear is a ternary projection: W = t · scale, with t in {-1, 0, 1}.
type bitLinear struct {
	out, in int
	t       []int8
	scale   float64
	floatIn bool // skip activation quantization (ReferenceOptions.FloatActivations)
}

// Hugging Face tensor names of a decoder layer, by role.
type layerNames struct {
	attnNorm, ffnNorm, attnSubNorm, ffnSubNorm string
	q, k, v, o, gate, up, down                 string
}

func namesFor(i int, arch *convert.Arch) layerNames {
	p := fmt.Sprintf("model.layers.%d.", i)
	n := layerNames{
		attnNorm: p + "input_layernorm.weight", ffnNorm: p + "post_attention_layernorm.weight",
		q: p + "self_attn.q_proj.weight", k: p + "self_attn.k_proj.weight", v: p + "self_attn.v_proj.weight",
		o: p + "self_attn.o_proj.weight", gate: p + "mlp.gate_proj.weight", up: p + "mlp.up_proj.weight",
		down: p + "mlp.down_proj.weight",
	}
	if arch.SubNorms {
		// BitNet b1.58 2B-4T and 1bitLLM spell the sub-norms differently.
		n.attnSubNorm, n.ffnSubNorm = p+"self_attn.attn_sub_norm.weight", p+"mlp.ffn_sub_norm.weight"
		if arch.HFArchitecture == "BitnetForCausalLM" {
			n.attnSubNorm, n.ffnSubNorm = p+"self_attn.inner_attn_ln.weight", p+"mlp.ffn_layernorm.weight"
		}
	}
	return n
}

// ReferenceOptions adjust the reference forward pass.
type ReferenceOptions struct {
	// FloatActivations feeds BitLinear layers unquantized activations. Hugging
	// Face semantics quantize them to int8; bitnet.cpp's F32 GGUF path does not,
	// so this mode is for comparing with its F32 logits.
	FloatActivations bool
}

// NewReference loads every weight of an opened checkpoint into float64 form.
// It needs about 1 byte per ternary weight plus 8 per embedding value, so it
// is meant for small and medium models.
func NewReference(ck *convert.Checkpoint, opts ReferenceOptions) (*Reference, error) {
	c := ck.Config
	r := &Reference{cfg: refConfig{
		hidden: c.HiddenSize, ffn: c.IntermediateSize, heads: c.NumAttentionHeads, kvHeads: c.NumKeyValueHeads,
		headDim: c.HeadDim, vocab: c.VocabSize, eps: c.RMSNormEps, ropeTheta: c.RopeTheta,
		activation: ck.Arch.Activation, subNorms: ck.Arch.SubNorms, ropeScaling: c.RopeScaling,
	}}
	if r.cfg.kvHeads == 0 {
		r.cfg.kvHeads = r.cfg.heads
	}
	if r.cfg.headDim == 0 {
		r.cfg.headDim = r.cfg.hidden / r.cfg.heads
	}
	if r.cfg.ropeTheta == 0 {
		r.cfg.ropeTheta = 10000
	}
	if r.cfg.eps == 0 {
		r.cfg.eps = 1e-6
	}
	ld := loader{ck: ck, floatIn: opts.FloatActivations}
	r.embed = ld.dense("model.embed_tokens.weight", r.cfg.vocab, r.cfg.hidden)
	r.outputNorm = ld.vector("model.norm.weight", r.cfg.hidden)
	if _, ok := ck.Tensor("lm_head.weight"); ok && !ck.Tied() {
		r.head = ld.dense("lm_head.weight", r.cfg.vocab, r.cfg.hidden)
	} else {
		r.head = r.embed
	}
	qDim, kvDim := r.cfg.heads*r.cfg.headDim, r.cfg.kvHeads*r.cfg.headDim
	for i := range c.NumHiddenLayers {
		n := namesFor(i, ck.Arch)
		l := refLayer{
			attnNorm: ld.vector(n.attnNorm, r.cfg.hidden),
			ffnNorm:  ld.vector(n.ffnNorm, r.cfg.hidden),
			q:        ld.ternary(n.q, qDim, r.cfg.hidden),
			k:        ld.ternary(n.k, kvDim, r.cfg.hidden),
			v:        ld.ternary(n.v, kvDim, r.cfg.hidden),
			o:        ld.ternary(n.o, r.cfg.hidden, qDim),
			gate:     ld.ternary(n.gate, r.cfg.ffn, r.cfg.hidden),
			up:       ld.ternary(n.up, r.cfg.ffn, r.cfg.hidden),
			down:     ld.ternary(n.down, r.cfg.hidden, r.cfg.ffn),
		}
		if r.cfg.subNorms {
			l.attnSubNorm = ld.vector(n.attnSubNorm, qDim)
			l.ffnSubNorm = ld.vector(n.ffnSubNorm, r.cfg.ffn)
		}
		r.layers = append(r.layers, l)
	}
	if ld.err != nil {
		return nil, ld.err
	}
	return r, nil
}

// loader reads tensors by Hugging Face name and keeps the first error.
type loader struct {
	ck      *convert.Checkpoint
	floatIn bool
	err     error
}

func (ld *loader) floats(name string, want int) []float64 {
	if ld.err != nil {
		return nil
	}
	x, err := ld.ck.Float32(name)
	if err != nil {
		ld.err = err
		return nil
	}
	if len(x) != want {
		ld.err = fmt.Errorf("%s: tensor %q has %d elements, the config implies %d", ld.ck.Dir, name, len(x), want)
		return nil
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func (ld *loader) vector(name string, n int) []float64 { return ld.floats(name, n) }

func (ld *loader) dense(name string, rows, cols int) matrix {
	return matrix{rows: rows, cols: cols, w: ld.floats(name, rows*cols)}
}

// ternary reads a projection. Float masters are ternarized with absmean;
// packed uint8 weights
// are unpacked from Hugging Face's row-block 2-bit layout and their
// weight_scale applied as quantization_config.linear_class says.
func (ld *loader) ternary(name string, out, in int) bitLinear {
	if ld.err != nil {
		return bitLinear{}
	}
	t, ok := ld.ck.Tensor(name)
	if !ok {
		ld.err = fmt.Errorf("%s: no tensor %q", ld.ck.Dir, name)
		return bitLinear{}
	}
	bl := bitLinear{out: out, in: in, t: make([]int8, out*in), floatIn: ld.floatIn}
	if t.DType == "U8" {
		if len(t.Data) != out/4*in {
			ld.err = fmt.Errorf("%s: packed tensor %q has %d bytes, want %d", ld.ck.Dir, name, len(t.Data), out/4*in)
			return bitLinear{}
		}
		// Row r of the packed matrix holds output rows r, r+out/4,
		// r+2·out/4, r+3·out/4 in bit pairs 0-1, 2-3, 4-5, 6-7, as value t+1.
		block := out / 4
		for i := range 4 {
			for r := range block {
				for k := range in {
					code := (t.Data[r*in+k] >> (2 * i)) & 3
					bl.t[(i*block+r)*in+k] = int8(code) - 1
				}
			}
		}
		ws := ld.floats(strings.TrimSuffix(name, ".weight")+".weight_scale", 1)
		if ld.err != nil {
			return bitLinear{}
		}
		if ld.ck.Arch.LinearClass == convert.LinearClassAutoBitLinear {
			bl.scale = ws[0]
		} else {
			bl.scale = 1 / ws[0]
		}
		return bl
	}
	w := ld.floats(name, out*in)
	if ld.err != nil {
		return bitLinear{}
	}
	// Hugging Face's weight_quant: s = 1/max(mean|W|, 1e-5), W' = clamp(round(W·s), -1, 1)/s.
	var sum float64
	for _, v := range w {
		sum += math.Abs(v)
	}
	s := 1 / max(sum/float64(len(w)), 1e-5)
	for i, v := range w {
		bl.t[i] = int8(max(-1, min(1, math.RoundToEven(v*s))))
	}
	bl.scale = 1 / s
	return bl
}
