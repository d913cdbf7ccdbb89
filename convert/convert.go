package convert

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"sync"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// Options control Convert.
type Options struct {
	// Type stores the projections: gguf.I2_S, gguf.TL1, gguf.TL2, gguf.F16
	// or gguf.F32. Its zero value is gguf.F32, so callers wanting I2_S must
	// say so; ParseType maps the CLI names.
	Type gguf.Type
	// EmbedType stores token_embd (and an untied output head); the zero
	// value keeps F32 for an F32 model and F16 otherwise.
	EmbedType EmbedType
	// ArchName overrides general.architecture, e.g. "bitnet-25" for the
	// older name of bitnet-b1.58.
	ArchName string
	// Name is general.name; empty means the checkpoint directory's name.
	Name string
	// TokenizerPre names the BPE pre-tokenizer when it cannot be
	// recognised from tokenizer.json.
	TokenizerPre string
	// TLParams overrides the TL1/TL2 tiling per [M, K] shape.
	TLParams map[[2]int]quantize.TLParams
	// Workers converting tensors in parallel; zero means GOMAXPROCS.
	Workers int
	// MemoryBudget bounds the bytes held by tensors being converted or
	// waiting to be written; zero means DefaultMemoryBudget. A tensor
	// bigger than the budget is converted alone.
	MemoryBudget int64
	// Progress, if set, is called from the writing goroutine with the bytes
	// of tensor data written so far and the total.
	Progress func(done, total int64)
}

// Convert converts the checkpoint in srcDir to a GGUF at dstPath. The file
// appears only when complete; on error nothing is left at dstPath.
func Convert(ctx context.Context, srcDir, dstPath string, opts Options) error {
	ck, err := OpenCheckpoint(srcDir)
	if err != nil {
		return err
	}
	defer ck.Close()
	vocab, err := ck.Vocab(opts.TokenizerPre)
	if err != nil {
		return err
	}
	return ck.WriteGGUF(ctx, dstPath, vocab, opts)
}

// WriteGGUF writes the checkpoint with the given tokenizer metadata as a
// GGUF at dstPath (see Convert).
func (c *Checkpoint) WriteGGUF(ctx context.Context, dstPath string, vocab *Vocab, opts Options) error {
	params, jobs, err := c.jobs(opts)
	if err != nil {
		return err
	}
	kv, err := params.kv()
	if err != nil {
		return err
	}
	kv = append(kv, vocab.KV()...)
	return writeJobs(ctx, dstPath, kv, jobs, pipelineOptions{workers: opts.Workers, budget: opts.MemoryBudget, progress: opts.Progress})
}

// ModelName is the default general.name for a checkpoint directory: the
// directory's name, or for a Hugging Face cache snapshot
// (…/models--org--name/snapshots/<commit>) the repository's name.
func ModelName(dir string) string {
	dir = filepath.Clean(dir)
	base := filepath.Base(dir)
	parent := filepath.Dir(dir)
	if filepath.Base(parent) == "snapshots" {
		repo := filepath.Base(filepath.Dir(parent))
		if rest, ok := strings.CutPrefix(repo, "models--"); ok {
			if i := strings.LastIndex(rest, "--"); i >= 0 {
				return rest[i+2:]
			}
			return rest
		}
	}
	return base
}

// jobs plans the metadata and one job per GGUF tensor.
func (c *Checkpoint) jobs(opts Options) (*modelParams, []job, error) {
	cfg := c.Config
	ft, err := FileType(opts.Type)
	if err != nil {
		return nil, nil, err
	}
	etype, err := opts.EmbedType.ggmlType(opts.Type, cfg.HiddenSize)
	if err != nil {
		return nil, nil, err
	}
	if err := checkFloatType(etype, cfg.HiddenSize); err != nil {
		return nil, nil, fmt.Errorf("token_embd: %w", err)
	}
	p := &modelParams{
		arch:      c.Arch.Name,
		name:      opts.Name,
		vocab:     cfg.VocabSize,
		context:   cfg.MaxPositionEmbeddings,
		hidden:    cfg.HiddenSize,
		layers:    cfg.NumHiddenLayers,
		ffn:       cfg.IntermediateSize,
		heads:     cfg.NumAttentionHeads,
		kvHeads:   cfg.NumKeyValueHeads,
		headDim:   cfg.HeadDim,
		ropeTheta: cfg.RopeTheta,
		rmsEps:    cfg.RMSNormEps,
		fileType:  ft,
		quantized: opts.Type.IsTernary() || etype == gguf.Q8_0 || etype == gguf.Q6_K,
	}
	if opts.ArchName != "" {
		p.arch = opts.ArchName
	}
	if p.name == "" {
		p.name = ModelName(c.Dir)
	}
	switch kind := strings.ToLower(cfg.RopeScaling.Kind()); kind {
	case "", "default":
		if c.Arch.Name == ArchBitnet {
			// bitnet.cpp's converter writes an explicit identity scaling
			// for this architecture; keep the files alike.
			p.ropeScaling, p.ropeFactor = "linear", 1
		}
	case "linear":
		p.ropeScaling, p.ropeFactor = "linear", cfg.RopeScaling.Factor
	default:
		return nil, nil, fmt.Errorf("%s: rope_scaling type %q is not supported", filepath.Join(c.Dir, "config.json"), kind)
	}
	if opts.Type == gguf.TL1 || opts.Type == gguf.TL2 {
		p.tlLayout = strings.ToLower(opts.Type.String())
		p.tlShapes = map[[2]int]quantize.TLParams{}
	}

	jobs := make([]job, 0, len(c.weights))
	for _, w := range c.weights {
		w := w
		switch w.Role {
		case RoleEmbedding, RoleOutput:
			jobs = append(jobs, c.floatJob(w, etype))
		case RoleNorm:
			jobs = append(jobs, c.floatJob(w, gguf.F32))
		case RoleProjection:
			var tl quantize.TLParams
			if p.tlShapes != nil {
				tl, err = tlParams(opts.Type, w.Rows, w.Cols, opts.TLParams)
				if err != nil {
					return nil, nil, fmt.Errorf("tensor %s [%d×%d]: cannot store as %s: %w (use --type i2_s)", w.GGUFName, w.Rows, w.Cols, opts.Type, err)
				}
				p.tlShapes[[2]int{w.Rows, w.Cols}] = tl
			}
			j, err := c.projectionJob(w, opts.Type, tl)
			if err != nil {
				return nil, nil, err
			}
			jobs = append(jobs, j)
		}
	}
	return p, jobs, nil
}

// projectionJob ternarizes (or unpacks) a projection, applies the llama q/k
// permutation, and encodes it.
func (c *Checkpoint) projectionJob(w Weight, typ gguf.Type, tl quantize.TLParams) (job, error) {
	shape := w.GGMLShape()
	size, err := gguf.TensorBytes(typ, shape)
	if err != nil {
		return job{}, fmt.Errorf("tensor %s: %w", w.GGUFName, err)
	}
	n := int64(w.Rows) * int64(w.Cols)
	// Scratch: float32 masters, codes, permuted codes, dequantized floats
	// for F16/F32 output, and the encoded result.
	cost := n + int64(size)
	if w.PermuteHeads > 0 {
		cost += n
	}
	if !typ.IsTernary() {
		cost += 4 * n // masters or dequantized values
		if w.PermuteHeads > 0 {
			cost += 4 * n
		}
	}
	return job{
		name: w.GGUFName, typ: typ, shape: shape, cost: cost,
		prepare: func(ctx context.Context, sc *scratch) ([]byte, error) {
			tw, err := c.ternaryInto(w, sc, !typ.IsTernary())
			if err != nil {
				return nil, err
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			out := sc.out(int(size))
			if typ.IsTernary() {
				codes := tw.T
				if w.PermuteHeads > 0 {
					codes = sc.permBuf(len(codes))
					if err := permuteRows(codes, tw.T, w.Rows, w.Cols, w.PermuteHeads); err != nil {
						return nil, err
					}
				}
				if err := encodeTernary(out, typ, codes, w.Rows, w.Cols, tw.Scale, tl); err != nil {
					return nil, err
				}
				return out, nil
			}
			// F16/F32: for float masters sc.f32 still holds W, which
			// dequantizeSigned needs for the sign of zero.
			vals := sc.floats(len(tw.T))
			dequantizeSigned(vals, tw.T, tw.Scale, !w.Packed)
			if w.PermuteHeads > 0 {
				p := make([]float32, len(vals))
				if err := permuteRows(p, vals, w.Rows, w.Cols, w.PermuteHeads); err != nil {
					return nil, err
				}
				vals = p
			}
			if err := encodeFloats(out, vals, typ, w.Cols); err != nil {
				return nil, err
			}
			return out, nil
		},
	}, nil
}

// dequantizeSigned writes t·scale into vals. With fromMasters, vals holds
// the float masters on entry, and a zero code keeps the sign of its master
// weight: torch computes round(W·s)/s, which gives -0 for small negative
// weights, and bitnet.cpp's F32 files carry those -0s.
func dequantizeSigned(vals []float32, codes []int8, scale float32, fromMasters bool) {
	for i, t := range codes {
		v := float32(t) * scale
		if t == 0 && fromMasters && math.Signbit(float64(vals[i])) {
			v = float32(math.Copysign(0, -1))
		}
		vals[i] = v
	}
}

// ternaryInto is Ternary with the worker's scratch buffers; withMasters
// also leaves the float masters in sc.f32 (for F16/F32 output).
func (c *Checkpoint) ternaryInto(w Weight, sc *scratch, withMasters bool) (*TernaryWeight, error) {
	n := w.Rows * w.Cols
	if w.Packed || !withMasters {
		return c.ternary(w, sc.int8s(n), nil)
	}
	return c.ternary(w, sc.int8s(n), sc.floats(n))
}

// streamChunk is the number of source bytes a streamed tensor converts at a
// time: big enough to amortise the per-chunk work, small enough to keep
// memory flat.
const streamChunk = 4 << 20

// floatJob streams a float tensor (embedding, output head, norm) to typ,
// chunk by chunk, dropping source pages as it goes.
func (c *Checkpoint) floatJob(w Weight, typ gguf.Type) job {
	t := c.byName[w.HFName]
	return job{
		name: w.GGUFName, typ: typ, shape: w.GGMLShape(),
		stream: func(ctx context.Context, out io.Writer, par int) error {
			defer t.release()
			return streamFloats(ctx, out, par, typ, w.Rows, w.Cols, dtypeSize(t.DType), func(dst []float32, from int) error {
				err := t.readFloats(dst, from)
				es := dtypeSize(t.DType)
				t.releaseRange(from*es, len(dst)*es)
				return err
			})
		},
	}
}

// streamFloats converts rows×cols floats produced by read (elements
// [from, from+len(dst))) to typ and writes them in order, in chunks of whole
// rows (or of whole blocks for the float types that allow it), converting
// up to par chunks in parallel. read must be safe for concurrent use.
func streamFloats(ctx context.Context, out io.Writer, par int, typ gguf.Type, rows, cols, srcElemSize int, read func(dst []float32, from int) error) error {
	n := rows * cols
	unit := floatRowUnit(typ, cols)
	chunk := max(streamChunk/max(srcElemSize, 1)/unit, 1) * unit
	nChunks := (n + chunk - 1) / chunk
	par = max(1, min(par, nChunks))
	type slot struct {
		f   []float32
		b   []byte
		err error
	}
	slots := make([]slot, par)
	for first := 0; first < nChunks; first += par {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := min(par, nChunks-first)
		var wg sync.WaitGroup
		for s := range batch {
			wg.Go(func() {
				sl := &slots[s]
				from := (first + s) * chunk
				cnt := min(chunk, n-from)
				if cap(sl.f) < cnt {
					sl.f = make([]float32, cnt)
				}
				f := sl.f[:cnt]
				if sl.err = read(f, from); sl.err != nil {
					return
				}
				size, err := gguf.TensorBytes(typ, []uint64{uint64(cnt)})
				if sl.err = err; err != nil {
					return
				}
				if cap(sl.b) < int(size) {
					sl.b = make([]byte, size)
				}
				sl.b = sl.b[:size]
				sl.err = encodeFloats(sl.b, f, typ, cols)
			})
		}
		wg.Wait()
		for s := range batch {
			if slots[s].err != nil {
				return slots[s].err
			}
			if _, err := out.Write(slots[s].b); err != nil {
				return err
			}
		}
	}
	return nil
}
