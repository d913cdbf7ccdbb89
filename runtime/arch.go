package runtime

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"
)

// A layer is one transformer block of some architecture family, bound to its
// weights. forward updates the residual stream s.x of the batch in place.
type layer interface {
	forward(s *state, il int)
	// matmuls lists the block's weight groups in the order forward
	// multiplies by them.
	matmuls() []*group
}

// family describes an architecture: its rope mode and how one block is bound
// to its tensors. Each family lives in its own file and registers its GGUF
// architecture names at init.
type family struct {
	neox bool
	load func(ld *loader, c *Config, il int) (layer, error)
}

var families = map[string]family{}

func register(arch string, f family) { families[arch] = f }

// Architectures lists the GGUF architecture names Load accepts.
func Architectures() []string {
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookupFamily(arch, path string) (family, error) {
	f, ok := families[arch]
	if !ok {
		if arch == "" {
			return f, fmt.Errorf("%s: no general.architecture in the metadata", path)
		}
		return f, fmt.Errorf("%s: unknown architecture %q (supported: %s)", path, arch, strings.Join(Architectures(), ", "))
	}
	return f, nil
}

// gateFunc combines the gate and up projections: dst = act(gate) ⊙ up.
type gateFunc func(dst, gate, up []float32)

// blockName names tensor "blk.<il>.<name>.weight".
func blockName(il int, name string) string { return fmt.Sprintf("blk.%d.%s.weight", il, name) }

// attention holds the weights of the attention half every family shares:
// the input norm and the q, k, v and output projections.
type attention struct {
	norm       []float32
	qkv        group // q, k, v: one shared input
	oG         group
	q, k, v, o *linear
}

// feedForward holds the weights of the gated feed-forward half.
type feedForward struct {
	norm           []float32
	gateUp         group // gate, up: one shared input
	downG          group
	gate, up, down *linear
}

func loadAttention(ld *loader, c *Config, il int) (a attention, err error) {
	d := c.Embedding
	if a.norm, err = ld.vector(blockName(il, "attn_norm"), d); err != nil {
		return a, err
	}
	if a.q, err = ld.linear(blockName(il, "attn_q"), c.QDim(), d); err != nil {
		return a, err
	}
	if a.k, err = ld.linear(blockName(il, "attn_k"), c.KVDim(), d); err != nil {
		return a, err
	}
	if a.v, err = ld.linear(blockName(il, "attn_v"), c.KVDim(), d); err != nil {
		return a, err
	}
	if a.o, err = ld.linear(blockName(il, "attn_output"), d, c.QDim()); err != nil {
		return a, err
	}
	a.qkv, a.oG = newGroup(a.q, a.k, a.v), newGroup(a.o)
	return a, nil
}

func loadFeedForward(ld *loader, c *Config, il int) (f feedForward, err error) {
	d := c.Embedding
	if f.norm, err = ld.vector(blockName(il, "ffn_norm"), d); err != nil {
		return f, err
	}
	if f.gate, err = ld.linear(blockName(il, "ffn_gate"), c.FFN, d); err != nil {
		return f, err
	}
	if f.up, err = ld.linear(blockName(il, "ffn_up"), c.FFN, d); err != nil {
		return f, err
	}
	if f.down, err = ld.linear(blockName(il, "ffn_down"), d, c.FFN); err != nil {
		return f, err
	}
	f.gateUp, f.downG = newGroup(f.gate, f.up), newGroup(f.down)
	return f, nil
}

// group is a set of projections that read the same input, run in one
// dispatch when they are all ternary (fused QKV, gate+up).
type group struct {
	ls   []*linear
	ws   []*kernels.I2S // the ternary operands when every member is ternary, else nil
	next *group         // the group a decode step multiplies by after this one
}

// announce tells the pool that g's matmul comes next (see
// kernels.Pool.UpcomingI2S), for the groups the kernels can load ahead:
// ternary ones and a lone float matrix.
func (g *group) announce(p *kernels.Pool) {
	switch {
	case g.ws != nil:
		p.UpcomingI2S(g.ws...)
	case len(g.ls) == 1 && g.ls[0].dense != nil:
		p.UpcomingDense(g.ls[0].dense)
	}
}

func newGroup(ls ...*linear) group {
	g := group{ls: ls}
	for _, l := range ls {
		if l.ternary == nil {
			return g
		}
		g.ws = append(g.ws, l.ternary)
	}
	return g
}
