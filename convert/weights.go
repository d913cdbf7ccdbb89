package convert

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Role says how a tensor is converted.
type Role int

// Tensor roles.
const (
	RoleEmbedding  Role = iota // token_embd: F16/F32/Q8_0/Q6_K
	RoleOutput                 // untied output head: like the embedding
	RoleNorm                   // RMSNorm weights: always F32
	RoleProjection             // ternary linear layers: I2_S/TL1/TL2 (or F16/F32)
)

// String names the role for messages.
func (r Role) String() string {
	switch r {
	case RoleEmbedding:
		return "embedding"
	case RoleOutput:
		return "output"
	case RoleNorm:
		return "norm"
	case RoleProjection:
		return "projection"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// Weight is one tensor of the GGUF and where it comes from.
type Weight struct {
	GGUFName string
	HFName   string
	Role     Role
	// Rows and Cols are the logical PyTorch shape [out, in] (for a packed
	// projection the unpacked one). Norms have Rows = 1.
	Rows, Cols int
	// Packed: a projection stored as uint8 [Rows/4, Cols] plus
	// HFName+"_scale" (weight_scale).
	Packed bool
	// PermuteHeads > 0: the GGUF rows are permuted for NORM rope over this
	// many heads (llama q and k).
	PermuteHeads int
}

// GGMLShape returns the GGUF shape (ne0 = Cols first).
func (w Weight) GGMLShape() []uint64 {
	if w.Role == RoleNorm {
		return []uint64{uint64(w.Cols)}
	}
	return []uint64{uint64(w.Cols), uint64(w.Rows)}
}

// Weights returns the tensors of the GGUF in the order Convert writes them
// (the order bitnet.cpp's converters produce: embedding, then per block
// attn_norm, q, k, v, output, attn_sub_norm, gate, up, down, ffn_norm,
// ffn_sub_norm, then output_norm and output).
func (c *Checkpoint) Weights() []Weight { return slices.Clone(c.weights) }

// Tied reports whether the output head is the token embedding.
func (c *Checkpoint) Tied() bool {
	for _, w := range c.weights {
		if w.Role == RoleOutput {
			return false
		}
	}
	return true
}

// weightSpec is a GGUF tensor a model of some config needs: the Weight
// with the preferred Hugging Face spelling, and other accepted spellings.
type weightSpec struct {
	Weight
	alt []string
}

// layoutWeights lists the tensors a model with this config and architecture
// has, in GGUF order, with shapes implied by the config.
func layoutWeights(cfg *Config, a *Arch, untied bool) []weightSpec {
	hidden, ffn, vocab := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	qDim := cfg.NumAttentionHeads * cfg.HeadDim
	kvDim := cfg.NumKeyValueHeads * cfg.HeadDim
	qPerm, kPerm := 0, 0
	if a.PermuteQK {
		qPerm, kPerm = cfg.NumAttentionHeads, cfg.NumKeyValueHeads
	}
	// 1bitLLM checkpoints spell the sub-norms inner_attn_ln/ffn_layernorm,
	// 2B-4T attn_sub_norm/ffn_sub_norm; both are accepted, the family's own
	// spelling is preferred (it is what dummy checkpoints write).
	attnSub := []string{"self_attn.attn_sub_norm.weight", "self_attn.inner_attn_ln.weight"}
	ffnSub := []string{"mlp.ffn_sub_norm.weight", "mlp.ffn_layernorm.weight"}
	if a.Name == ArchBitnet {
		attnSub[0], attnSub[1] = attnSub[1], attnSub[0]
		ffnSub[0], ffnSub[1] = ffnSub[1], ffnSub[0]
	}
	var specs []weightSpec
	add := func(hf []string, g string, role Role, rows, cols, perm int) {
		specs = append(specs, weightSpec{Weight: Weight{GGUFName: g, HFName: hf[0], Role: role, Rows: rows, Cols: cols, PermuteHeads: perm}, alt: hf[1:]})
	}
	add([]string{"model.embed_tokens.weight"}, "token_embd.weight", RoleEmbedding, vocab, hidden, 0)
	for l := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		b := fmt.Sprintf("blk.%d.", l)
		pre := func(names ...string) []string {
			out := make([]string, len(names))
			for i, n := range names {
				out[i] = p + n
			}
			return out
		}
		add(pre("input_layernorm.weight"), b+"attn_norm.weight", RoleNorm, 1, hidden, 0)
		add(pre("self_attn.q_proj.weight"), b+"attn_q.weight", RoleProjection, qDim, hidden, qPerm)
		add(pre("self_attn.k_proj.weight"), b+"attn_k.weight", RoleProjection, kvDim, hidden, kPerm)
		add(pre("self_attn.v_proj.weight"), b+"attn_v.weight", RoleProjection, kvDim, hidden, 0)
		add(pre("self_attn.o_proj.weight"), b+"attn_output.weight", RoleProjection, hidden, qDim, 0)
		if a.SubNorms {
			add(pre(attnSub...), b+"attn_sub_norm.weight", RoleNorm, 1, qDim, 0)
		}
		add(pre("mlp.gate_proj.weight"), b+"ffn_gate.weight", RoleProjection, ffn, hidden, 0)
		add(pre("mlp.up_proj.weight"), b+"ffn_up.weight", RoleProjection, ffn, hidden, 0)
		add(pre("mlp.down_proj.weight"), b+"ffn_down.weight", RoleProjection, hidden, ffn, 0)
		add(pre("post_attention_layernorm.weight"), b+"ffn_norm.weight", RoleNorm, 1, hidden, 0)
		if a.SubNorms {
			add(pre(ffnSub...), b+"ffn_sub_norm.weight", RoleNorm, 1, ffn, 0)
		}
	}
	add([]string{"model.norm.weight"}, "output_norm.weight", RoleNorm, 1, hidden, 0)
	if untied {
		add([]string{"lm_head.weight"}, "output.weight", RoleOutput, vocab, hidden, 0)
	}
	return specs
}

// plan maps the checkpoint's tensors to GGUF tensors and validates shapes,
// dtypes and completeness: every tensor must be used, every needed tensor
// must be present.
func (c *Checkpoint) plan() error {
	cfg, a := c.Config, c.Arch
	_, hasHead := c.byName["lm_head.weight"]
	tiedByConfig := cfg.TieWordEmbeddings != nil && *cfg.TieWordEmbeddings
	used := map[string]bool{}
	if hasHead && tiedByConfig {
		// transformers ties the head to the embedding and ignores the saved
		// copy; so do we.
		used["lm_head.weight"] = true
	}
	if err := c.checkLayerCount(); err != nil {
		return err
	}
	var ws []Weight
	for _, s := range layoutWeights(cfg, a, hasHead && !tiedByConfig) {
		w := s.Weight
		if _, ok := c.byName[w.HFName]; !ok {
			for _, alt := range s.alt {
				if _, ok := c.byName[alt]; ok {
					w.HFName = alt
					break
				}
			}
		}
		if _, ok := c.byName[w.HFName]; !ok {
			return fmt.Errorf("%s: tensor %s is missing (needed for %s)", c.Dir, strings.Join(append([]string{s.HFName}, s.alt...), " or "), w.GGUFName)
		}
		if err := c.checkWeight(&w); err != nil {
			return err
		}
		used[w.HFName] = true
		if w.Packed {
			used[w.HFName+"_scale"] = true
		}
		ws = append(ws, w)
	}
	for _, t := range c.tensors {
		if used[t.Name] || ignoredTensor(t.Name) {
			continue
		}
		if _, ok := GGUFName(t.Name); ok {
			// A known name that the config does not call for, e.g. sub-norms
			// in a llama checkpoint or a layer beyond num_hidden_layers.
			return fmt.Errorf("%s: tensor %q (in %s) does not fit the %s architecture with %d layers", c.Dir, t.Name, t.File, a.Name, cfg.NumHiddenLayers)
		}
		return fmt.Errorf("%s: tensor %q (in %s) is not part of a %s model: cannot map it to GGUF", c.Dir, t.Name, t.File, a.HFArchitecture)
	}
	c.weights = ws
	return nil
}

// floatDTypes are the dtypes we read as float weights.
var floatDTypes = map[string]bool{"BF16": true, "F16": true, "F32": true, "F64": true}

// checkWeight checks a planned tensor's dtype and shape, and detects packed
// projections.
func (c *Checkpoint) checkWeight(w *Weight) error {
	t := c.byName[w.HFName]
	if t == nil {
		return fmt.Errorf("%s: tensor %q is missing (needed for %s)", c.Dir, w.HFName, w.GGUFName)
	}
	want := []uint64{uint64(w.Rows), uint64(w.Cols)}
	if w.Role == RoleNorm {
		want = want[1:]
	}
	if w.Role == RoleProjection && (t.DType == "U8" || t.DType == "I8") {
		// Offline-packed ternary weights: [out/4, in] plus weight_scale.
		if w.Rows%4 != 0 {
			return fmt.Errorf("%s: tensor %q is packed but its %d output rows are not a multiple of 4", c.Dir, w.HFName, w.Rows)
		}
		want[0] = uint64(w.Rows / 4)
		if !slices.Equal(t.Shape, want) {
			return fmt.Errorf("%s: packed tensor %q has shape %v, expected %v (= [%d/4, %d])", c.Dir, w.HFName, t.Shape, want, w.Rows, w.Cols)
		}
		s, ok := c.byName[w.HFName+"_scale"]
		if !ok {
			return fmt.Errorf("%s: packed tensor %q has no %s_scale tensor", c.Dir, w.HFName, w.HFName)
		}
		if !floatDTypes[s.DType] || s.Elements() != 1 {
			return fmt.Errorf("%s: %q must hold one float (has dtype %s, shape %v)", c.Dir, s.Name, s.DType, s.Shape)
		}
		w.Packed = true
		return nil
	}
	if !floatDTypes[t.DType] {
		return fmt.Errorf("%s: tensor %q has dtype %s; expected a float type (BF16, F16, F32)", c.Dir, w.HFName, t.DType)
	}
	if !slices.Equal(t.Shape, want) {
		return fmt.Errorf("%s: tensor %q has shape %v, expected %v from config.json", c.Dir, w.HFName, t.Shape, want)
	}
	return nil
}

// checkLayerCount compares num_hidden_layers with the layers the tensors
// hold before anything is planned: the plan has a dozen entries per layer,
// so a hostile count (millions) would cost gigabytes before the first
// missing tensor were noticed.
func (c *Checkpoint) checkLayerCount() error {
	have := 0
	for _, t := range c.tensors {
		rest, ok := strings.CutPrefix(t.Name, "model.layers.")
		if !ok {
			continue
		}
		i := strings.IndexByte(rest, '.')
		if i <= 0 {
			continue
		}
		if n, err := strconv.Atoi(rest[:i]); err == nil && n >= 0 && n+1 > have {
			have = n + 1
		}
	}
	if want := c.Config.NumHiddenLayers; want > have {
		if have == 0 {
			return fmt.Errorf("%s: field \"num_hidden_layers\" = %d, but no tensor belongs to a layer (model.layers.N.*)", filepath.Join(c.Dir, "config.json"), want)
		}
		return fmt.Errorf("%s: field \"num_hidden_layers\" = %d, but the tensors hold only %d layers (model.layers.0 … model.layers.%d)",
			filepath.Join(c.Dir, "config.json"), want, have, have-1)
	}
	return nil
}
