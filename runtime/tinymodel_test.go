package runtime

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// tinySpec describes a small synthetic model written with gguf.WriteFile,
// so that the tests need no golden data. The default shapes are the
// smallest every TL layout can tile (K >= 256).
type tinySpec struct {
	arch                       string
	layers, hidden, ffn        int
	heads, kvHeads, vocab, ctx int
	proj                       gguf.Type // projection type: I2_S, TL1, TL2, F32 or F16
	embed                      gguf.Type // F32 or F16
	untied                     bool      // write output.weight
	seed                       uint64
	omit                       string             // leave this tensor out
	reshape                    string             // give this tensor a wrong shape
	extraKV                    []gguf.KV          // appended metadata (may override)
	dropKV                     string             // leave this metadata key out
	tweak                      func(*tinyWeights) // change weights before writing
	noTLMeta                   bool               // omit bitnet.tl.* keys
	subNorms                   bool               // write sub-norms (bitnet archs need them)
}

func defaultTiny(arch string) tinySpec {
	return tinySpec{arch: arch, layers: 2, hidden: 256, ffn: 512, heads: 4, kvHeads: 2, vocab: 64, ctx: 64,
		proj: gguf.I2_S, embed: gguf.F32, seed: 1, subNorms: arch != "llama"}
}

// tinyWeights are the model's values as float64, for the reference forward.
type tinyWeights struct {
	embed, output []float64 // [vocab][hidden]
	outNorm       []float64
	layers        []tinyLayer
}

type tinyLayer struct {
	attnNorm, attnSub, ffnNorm, ffnSub []float64
	q, k, v, o, gate, up, down         tinyProj
}

// tinyProj is a projection of m outputs and k inputs: ternary codes times a
// scale (the ternary types) or plain values (F32/F16).
type tinyProj struct {
	m, k  int
	codes []int8
	scale float32
	w     []float64 // dequantized values, row-major [m][k]
}

func newTinyProj(r *rand.Rand, m, k int, ternary bool) tinyProj {
	p := tinyProj{m: m, k: k, w: make([]float64, m*k)}
	if ternary {
		p.codes = make([]int8, m*k)
		p.scale = 0.02 + 0.01*float32(r.Float64())
		for i := range p.codes {
			p.codes[i] = int8(r.IntN(3) - 1)
			p.w[i] = float64(p.codes[i]) * float64(p.scale)
		}
		return p
	}
	for i := range p.w {
		// Values exact in F16, so the F16 file holds the same model.
		p.w[i] = float64(float32(math.Round(r.NormFloat64()*0.02*4096) / 4096))
	}
	return p
}

func randVec(r *rand.Rand, n int, mean, sd float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(math.Round((mean+sd*r.NormFloat64())*1024) / 1024))
	}
	return v
}

func (s *tinySpec) weights() *tinyWeights {
	r := rand.New(rand.NewPCG(s.seed, 7))
	ternary := s.proj != gguf.F32 && s.proj != gguf.F16
	hd := s.hidden / s.heads
	w := &tinyWeights{embed: randVec(r, s.vocab*s.hidden, 0, 0.1), outNorm: randVec(r, s.hidden, 1, 0.1)}
	if s.untied {
		w.output = randVec(r, s.vocab*s.hidden, 0, 0.1)
	} else {
		w.output = w.embed
	}
	for range s.layers {
		l := tinyLayer{
			attnNorm: randVec(r, s.hidden, 1, 0.1), ffnNorm: randVec(r, s.hidden, 1, 0.1),
			q: newTinyProj(r, s.heads*hd, s.hidden, ternary), k: newTinyProj(r, s.kvHeads*hd, s.hidden, ternary),
			v: newTinyProj(r, s.kvHeads*hd, s.hidden, ternary), o: newTinyProj(r, s.hidden, s.heads*hd, ternary),
			gate: newTinyProj(r, s.ffn, s.hidden, ternary), up: newTinyProj(r, s.ffn, s.hidden, ternary),
			down: newTinyProj(r, s.hidden, s.ffn, ternary),
		}
		if s.subNorms {
			l.attnSub, l.ffnSub = randVec(r, s.hidden, 1, 0.1), randVec(r, s.ffn, 1, 0.1)
		}
		w.layers = append(w.layers, l)
	}
	if s.tweak != nil {
		s.tweak(w)
	}
	return w
}

// write writes the model to dir and returns its path and weights.
func (s *tinySpec) write(t testing.TB, dir string) (string, *tinyWeights) {
	t.Helper()
	w := s.weights()
	a := s.arch
	kv := []gguf.KV{
		{Key: "general.architecture", Value: a},
		{Key: a + ".block_count", Value: uint32(s.layers)},
		{Key: a + ".context_length", Value: uint32(s.ctx)},
		{Key: a + ".embedding_length", Value: uint32(s.hidden)},
		{Key: a + ".feed_forward_length", Value: uint32(s.ffn)},
		{Key: a + ".attention.head_count", Value: uint32(s.heads)},
		{Key: a + ".attention.head_count_kv", Value: uint32(s.kvHeads)},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: a + ".rope.freq_base", Value: float32(10000)},
	}
	var tensors []gguf.TensorSpec
	tlShapes := map[[2]int]quantize.TLParams{}
	add := func(name string, typ gguf.Type, shape []uint64, write func(io.Writer) error) {
		if name == s.omit {
			return
		}
		if name == s.reshape {
			shape = append([]uint64{shape[0] / 2}, shape[1:]...)
			n, err := gguf.TensorBytes(typ, shape)
			if err != nil {
				t.Fatal(err)
			}
			write = func(w io.Writer) error { _, err := w.Write(make([]byte, n)); return err }
		}
		tensors = append(tensors, gguf.TensorSpec{Name: name, Type: typ, Shape: shape, Write: write})
	}
	floats := func(name string, typ gguf.Type, v []float64, shape ...uint64) {
		add(name, typ, shape, func(w io.Writer) error { return writeFloats(w, typ, v) })
	}
	proj := func(name string, p tinyProj) {
		shape := []uint64{uint64(p.k), uint64(p.m)}
		if p.codes == nil {
			floats(name, s.proj, p.w, shape...)
			return
		}
		n, err := gguf.TensorBytes(s.proj, shape)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, n)
		switch s.proj {
		case gguf.I2_S:
			err = quantize.PackI2S(buf, p.codes, p.m, p.k, p.scale)
		case gguf.TL1, gguf.TL2:
			var tp quantize.TLParams
			if s.proj == gguf.TL1 {
				tp, err = quantize.TL1Params(p.m, p.k)
			} else {
				tp, err = quantize.TL2Params(p.m, p.k)
			}
			if err == nil {
				tlShapes[[2]int{p.m, p.k}] = tp
				if s.proj == gguf.TL1 {
					err = quantize.PackTL1(buf, p.codes, p.m, p.k, tp, p.scale)
				} else {
					err = quantize.PackTL2(buf, p.codes, p.m, p.k, tp, p.scale)
				}
			}
		default:
			t.Fatalf("tiny model: projection type %v", s.proj)
		}
		if err != nil {
			t.Fatal(err)
		}
		add(name, s.proj, shape, func(w io.Writer) error { _, err := w.Write(buf); return err })
	}
	h, v := uint64(s.hidden), uint64(s.vocab)
	floats("token_embd.weight", s.embed, w.embed, h, v)
	for il, l := range w.layers {
		floats(blockName(il, "attn_norm"), gguf.F32, l.attnNorm, h)
		proj(blockName(il, "attn_q"), l.q)
		proj(blockName(il, "attn_k"), l.k)
		proj(blockName(il, "attn_v"), l.v)
		proj(blockName(il, "attn_output"), l.o)
		if l.attnSub != nil {
			floats(blockName(il, "attn_sub_norm"), gguf.F32, l.attnSub, uint64(len(l.attnSub)))
		}
		floats(blockName(il, "ffn_norm"), gguf.F32, l.ffnNorm, h)
		proj(blockName(il, "ffn_gate"), l.gate)
		proj(blockName(il, "ffn_up"), l.up)
		proj(blockName(il, "ffn_down"), l.down)
		if l.ffnSub != nil {
			floats(blockName(il, "ffn_sub_norm"), gguf.F32, l.ffnSub, uint64(len(l.ffnSub)))
		}
	}
	floats("output_norm.weight", gguf.F32, w.outNorm, h)
	if s.untied {
		floats("output.weight", s.embed, w.output, h, v)
	}
	if !s.noTLMeta {
		for shape, p := range tlShapes {
			kv = append(kv, gguf.KV{Key: fmt.Sprintf("%s%dx%d", TLKeyPrefix, shape[0], shape[1]),
				Value: gguf.Array{Elem: gguf.Uint32, Values: []uint32{uint32(p.BM), uint32(p.BK), uint32(p.Bm)}}})
		}
	}
	kv = append(kv, s.extraKV...)
	// Later entries override earlier ones; a key dropped is dropped everywhere.
	var final []gguf.KV
	seen := map[string]int{}
	for _, e := range kv {
		if e.Key == s.dropKV {
			continue
		}
		if i, ok := seen[e.Key]; ok {
			final[i] = e
			continue
		}
		seen[e.Key] = len(final)
		final = append(final, e)
	}
	path := filepath.Join(dir, fmt.Sprintf("tiny-%s-%v.gguf", a, s.proj))
	if err := gguf.WriteFile(path, final, tensors); err != nil {
		t.Fatal(err)
	}
	return path, w
}

func writeFloats(w io.Writer, typ gguf.Type, v []float64) error {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	var buf []byte
	switch typ {
	case gguf.F32:
		buf = make([]byte, 4*len(f))
		for i, x := range f {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
	case gguf.F16:
		buf = make([]byte, 2*len(f))
		if err := quantize.F32ToF16(buf, f); err != nil {
			return err
		}
	default:
		return fmt.Errorf("writeFloats: type %v", typ)
	}
	_, err := w.Write(buf)
	return err
}
