package convert

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// DummyOptions control WriteDummyGGUF and WriteDummyHF.
type DummyOptions struct {
	// Size names the layout (see Layouts): "125M" … "100B", "2B-4T",
	// "large", "3B", "llama3-8B", "falcon3-1B" … "falcon3-10B".
	Size string
	// Layout, when set, is used instead of Size: tests use it for tiny
	// models of a real architecture.
	Layout *Layout
	// Type and EmbedType are as in Options (GGUF only).
	Type      gguf.Type
	EmbedType EmbedType
	// Seed fixes every weight: the same seed gives the same file.
	Seed uint64
	// TLParams overrides the TL1/TL2 tiling per [M, K] shape (GGUF only).
	TLParams map[[2]int]quantize.TLParams
	// Packed writes the projections of a Hugging Face checkpoint as packed
	// uint8 + weight_scale (offline quantization) instead of bf16 masters.
	Packed bool
	// MaxShardBytes splits a Hugging Face checkpoint's weights into
	// model-XXXXX-of-YYYYY.safetensors files of at most this many bytes
	// (one tensor may exceed it) plus an index; zero writes one file.
	MaxShardBytes int64
	// Workers, MemoryBudget and Progress are as in Options.
	Workers      int
	MemoryBudget int64
	Progress     func(done, total int64)
}

// Standard deviations of the random float weights: small embeddings as in
// real checkpoints (so tied logits stay O(1)), and masters whose absmean
// scale is around 0.016, like the golden checkpoints'.
const (
	dummyEmbedSigma  = 0.02
	dummyMasterSigma = 0.02
)

// dummyModel resolves a layout into its config, architecture and tensors.
func dummyModel(opts DummyOptions) (Layout, *Config, *Arch, []weightSpec, error) {
	var l Layout
	if opts.Layout != nil {
		l = *opts.Layout
	} else {
		var err error
		if l, err = LookupLayout(opts.Size); err != nil {
			return l, nil, nil, nil, err
		}
	}
	if _, err := l.Tokenizer.flavour(); err != nil {
		return l, nil, nil, nil, fmt.Errorf("layout %s: %w", l.Name, err)
	}
	if l.Vocab < dummyVocabSize {
		return l, nil, nil, nil, fmt.Errorf("layout %s: vocabulary of %d tokens is smaller than the built-in tokenizer's %d", l.Name, l.Vocab, dummyVocabSize)
	}
	cfg := l.config()
	if err := cfg.validate(); err != nil {
		return l, nil, nil, nil, fmt.Errorf("layout %s: %w", l.Name, err)
	}
	a, err := resolveArch(cfg)
	if err != nil {
		return l, nil, nil, nil, fmt.Errorf("layout %s: %w", l.Name, err)
	}
	return l, cfg, a, layoutWeights(cfg, a, !l.Tied), nil
}

// WriteDummyGGUF writes a ready-to-run GGUF of the given layout with random
// ternary weights and the built-in byte-level BPE tokenizer. Tensors are
// generated and written one at a time, so the size of the model is limited
// by the disk, not the memory.
func WriteDummyGGUF(ctx context.Context, path string, opts DummyOptions) error {
	l, cfg, a, specs, err := dummyModel(opts)
	if err != nil {
		return err
	}
	vocab, err := dummyVocab(l, cfg)
	if err != nil {
		return err
	}
	ft, err := FileType(opts.Type)
	if err != nil {
		return err
	}
	embed := opts.EmbedType
	if embed == EmbedDefault && opts.Type.IsTernary() {
		embed = l.Embed // what the published GGUF of this model stores
	}
	etype, err := embed.ggmlType(opts.Type, cfg.HiddenSize)
	if err != nil {
		return err
	}
	if err := checkFloatType(etype, cfg.HiddenSize); err != nil {
		return fmt.Errorf("token_embd: %w", err)
	}
	p := &modelParams{
		arch: a.Name, name: "dummy-" + l.Name, vocab: cfg.VocabSize, context: cfg.MaxPositionEmbeddings,
		hidden: cfg.HiddenSize, layers: cfg.NumHiddenLayers, ffn: cfg.IntermediateSize,
		heads: cfg.NumAttentionHeads, kvHeads: cfg.NumKeyValueHeads, headDim: cfg.HeadDim,
		ropeTheta: cfg.RopeTheta, rmsEps: cfg.RMSNormEps, fileType: ft,
		quantized: opts.Type.IsTernary() || etype == gguf.Q8_0 || etype == gguf.Q6_K,
	}
	if a.Name == ArchBitnet {
		p.ropeScaling, p.ropeFactor = "linear", 1
	}
	if opts.Type == gguf.TL1 || opts.Type == gguf.TL2 {
		p.tlLayout = strings.ToLower(opts.Type.String())
		p.tlShapes = map[[2]int]quantize.TLParams{}
	}
	jobs := make([]job, 0, len(specs))
	for _, s := range specs {
		w := s.Weight
		switch w.Role {
		case RoleEmbedding, RoleOutput:
			jobs = append(jobs, randomFloatJob(w, etype, opts.Seed, dummyEmbedSigma))
		case RoleNorm:
			jobs = append(jobs, constFloatJob(w, 1))
		case RoleProjection:
			var tl quantize.TLParams
			if p.tlShapes != nil {
				if tl, err = tlParams(opts.Type, w.Rows, w.Cols, opts.TLParams); err != nil {
					return fmt.Errorf("tensor %s [%d×%d]: cannot store as %s: %w", w.GGUFName, w.Rows, w.Cols, opts.Type, err)
				}
				p.tlShapes[[2]int{w.Rows, w.Cols}] = tl
			}
			j, err := randomTernaryJob(w, opts.Type, tl, opts.Seed)
			if err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
	}
	kv, err := p.kv()
	if err != nil {
		return err
	}
	kv = append(kv, vocab.KV()...)
	return writeJobs(ctx, path, kv, jobs, pipelineOptions{workers: opts.Workers, budget: opts.MemoryBudget, progress: opts.Progress})
}

// dummyScale is the per-tensor scale of random ternary weights: it keeps
// the output variance of a projection equal to its input variance
// (K inputs, two thirds of them non-zero).
func dummyScale(k int) float32 { return float32(math.Sqrt(1.5 / float64(k))) }

// randomTernaryJob makes a projection of uniform random ternary codes.
func randomTernaryJob(w Weight, typ gguf.Type, tl quantize.TLParams, seed uint64) (job, error) {
	shape := w.GGMLShape()
	size, err := gguf.TensorBytes(typ, shape)
	if err != nil {
		return job{}, fmt.Errorf("tensor %s: %w", w.GGUFName, err)
	}
	n := w.Rows * w.Cols
	scale := dummyScale(w.Cols)
	cost := int64(size)
	if typ != gguf.I2_S {
		cost += int64(n) + int64(n/4)
		if !typ.IsTernary() {
			cost += 4 * int64(n)
		}
	}
	return job{
		name: w.GGUFName, typ: typ, shape: shape, cost: cost,
		prepare: func(ctx context.Context, sc *scratch) ([]byte, error) {
			r := streamRNG(seed, w.GGUFName, 0)
			if typ == gguf.I2_S {
				out := sc.out(int(size))
				return out, fillI2S(out, r, n, scale)
			}
			// Other types hold the same codes as the I2_S file of the same
			// seed, so outputs can be compared across types.
			i2s := make([]byte, n/4+gguf.BitnetTailBytes)
			if err := fillI2S(i2s, r, n, scale); err != nil {
				return nil, err
			}
			codes := sc.int8s(n)
			if _, err := quantize.UnpackI2S(codes, i2s, w.Rows, w.Cols); err != nil {
				return nil, err
			}
			out := sc.out(int(size))
			if typ.IsTernary() {
				return out, encodeTernary(out, typ, codes, w.Rows, w.Cols, scale, tl)
			}
			vals := sc.floats(n)
			dequantizeSigned(vals, codes, scale, false)
			return out, encodeFloats(out, vals, typ, w.Cols)
		},
	}, nil
}

// fillI2S writes random I2_S code bytes for n weights, then the tensor's
// tail (scale and padding) as quantize lays it out. Drawing bytes directly
// is equivalent to packing random codes and about ten times faster, which
// matters for a 100B model.
func fillI2S(out []byte, r *rng, n int, scale float32) error {
	r.i2sBytes(out[:n/4])
	// The tail of a 128-code tensor packed by quantize is the tail of any
	// I2_S tensor with this scale.
	var tiny [128/4 + gguf.BitnetTailBytes]byte
	var zeros [128]int8
	if err := quantize.PackI2S(tiny[:], zeros[:], 1, 128, scale); err != nil {
		return err
	}
	copy(out[n/4:], tiny[128/4:])
	return nil
}

// randomFloatJob streams normal random floats (embedding, output head).
func randomFloatJob(w Weight, typ gguf.Type, seed uint64, sigma float32) job {
	return job{
		name: w.GGUFName, typ: typ, shape: w.GGMLShape(),
		stream: func(ctx context.Context, out io.Writer, par int) error {
			return streamFloats(ctx, out, par, typ, w.Rows, w.Cols, 4, func(dst []float32, from int) error {
				streamRNG(seed, w.GGUFName, from).normals(dst, sigma)
				return nil
			})
		},
	}
}

// constFloatJob streams a constant tensor (norm weights).
func constFloatJob(w Weight, v float32) job {
	return job{
		name: w.GGUFName, typ: gguf.F32, shape: w.GGMLShape(),
		stream: func(ctx context.Context, out io.Writer, par int) error {
			return streamFloats(ctx, out, par, gguf.F32, w.Rows, w.Cols, 4, func(dst []float32, from int) error {
				for i := range dst {
					dst[i] = v
				}
				return nil
			})
		},
	}
}
