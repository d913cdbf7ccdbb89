package convert

import (
	"fmt"
	"slices"
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

// plan maps the checkpoint's tensors to GGUF tensors and validates shapes,
// dtypes and completeness: every tensor must be used, every needed tensor
// must be present.
func (c *Checkpoint) plan() error {
	cfg, a := c.Config, c.Arch
	hidden, ffn, vocab := cfg.HiddenSize, cfg.IntermediateSize, cfg.VocabSize
	qDim := cfg.NumAttentionHeads * cfg.HeadDim
	kvDim := cfg.NumKeyValueHeads * cfg.HeadDim
	used := map[string]bool{}
	var ws []Weight
	add := func(hf, g string, role Role, rows, cols, permute int) error {
		w := Weight{GGUFName: g, HFName: hf, Role: role, Rows: rows, Cols: cols, PermuteHeads: permute}
		if err := c.checkWeight(&w); err != nil {
			return err
		}
		used[hf] = true
		if w.Packed {
			used[hf+"_scale"] = true
		}
		ws = append(ws, w)
		return nil
	}
	if err := add("model.embed_tokens.weight", "token_embd.weight", RoleEmbedding, vocab, hidden, 0); err != nil {
		return err
	}
	for l := range cfg.NumHiddenLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		b := fmt.Sprintf("blk.%d.", l)
		qPerm, kPerm := 0, 0
		if a.PermuteQK {
			qPerm, kPerm = cfg.NumAttentionHeads, cfg.NumKeyValueHeads
		}
		type spec struct {
			hf         []string // accepted spellings
			g          string
			role       Role
			rows, cols int
			perm       int
			want       bool
		}
		specs := []spec{
			{[]string{"input_layernorm.weight"}, "attn_norm.weight", RoleNorm, 1, hidden, 0, true},
			{[]string{"self_attn.q_proj.weight"}, "attn_q.weight", RoleProjection, qDim, hidden, qPerm, true},
			{[]string{"self_attn.k_proj.weight"}, "attn_k.weight", RoleProjection, kvDim, hidden, kPerm, true},
			{[]string{"self_attn.v_proj.weight"}, "attn_v.weight", RoleProjection, kvDim, hidden, 0, true},
			{[]string{"self_attn.o_proj.weight"}, "attn_output.weight", RoleProjection, hidden, qDim, 0, true},
			{[]string{"self_attn.attn_sub_norm.weight", "self_attn.inner_attn_ln.weight"}, "attn_sub_norm.weight", RoleNorm, 1, qDim, 0, a.SubNorms},
			{[]string{"mlp.gate_proj.weight"}, "ffn_gate.weight", RoleProjection, ffn, hidden, 0, true},
			{[]string{"mlp.up_proj.weight"}, "ffn_up.weight", RoleProjection, ffn, hidden, 0, true},
			{[]string{"mlp.down_proj.weight"}, "ffn_down.weight", RoleProjection, hidden, ffn, 0, true},
			{[]string{"post_attention_layernorm.weight"}, "ffn_norm.weight", RoleNorm, 1, hidden, 0, true},
			{[]string{"mlp.ffn_sub_norm.weight", "mlp.ffn_layernorm.weight"}, "ffn_sub_norm.weight", RoleNorm, 1, ffn, 0, a.SubNorms},
		}
		for _, s := range specs {
			if !s.want {
				continue
			}
			hf := ""
			for _, cand := range s.hf {
				if _, ok := c.byName[p+cand]; ok {
					hf = p + cand
					break
				}
			}
			if hf == "" {
				return fmt.Errorf("%s: tensor %s%s is missing (needed for %s%s)", c.Dir, p, strings.Join(s.hf, " or "+p), b, s.g)
			}
			if err := add(hf, b+s.g, s.role, s.rows, s.cols, s.perm); err != nil {
				return err
			}
		}
	}
	if err := add("model.norm.weight", "output_norm.weight", RoleNorm, 1, hidden, 0); err != nil {
		return err
	}
	tiedByConfig := cfg.TieWordEmbeddings != nil && *cfg.TieWordEmbeddings
	if _, ok := c.byName["lm_head.weight"]; ok {
		if tiedByConfig {
			// transformers ties the head to the embedding and ignores the
			// saved copy; so do we.
			used["lm_head.weight"] = true
		} else if err := add("lm_head.weight", "output.weight", RoleOutput, vocab, hidden, 0); err != nil {
			return err
		}
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
