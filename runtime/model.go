package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
)

// Options tune how a model is loaded and run.
type Options struct {
	// Threads is the number of threads of the matmuls; <= 0 means one per CPU.
	Threads int
	// Context is the longest sequence (prompt and generated tokens) a
	// Session accepts, per sequence; 0 means the model's trained context
	// length, and a larger value than that is an error.
	Context int
	// BatchSize is the most tokens one forward pass evaluates when a
	// Sequence reads a prompt; 0 means 512. A smaller value needs less
	// scratch memory; results do not depend on it beyond float rounding.
	BatchSize int
	// Map keeps the weights in a memory map of the file instead of reading
	// them into memory. Reading is the default on Linux when the file fits
	// in three quarters of the available memory: decoding streams anonymous
	// memory 12-14 % faster than mapped page cache on the machines measured
	// (README, "Performance"). Mapping loads at once, shares the page cache
	// between processes and is what other systems, and files larger than
	// memory, get.
	Map bool
	// CheckTensors scans every F32, F16 and BF16 matrix (embedding, output
	// head, float projections) for NaN and infinite values at load, as
	// llama.cpp's --check-tensors does; it costs a pass over those bytes.
	// Norm weights and I2_S scales are always checked.
	CheckTensors bool
	// Overrides replace (or add) metadata keys before the model is read,
	// for files that are wrong in some key (llama.cpp's --override-kv; see
	// gguf.ParseOverride).
	Overrides []gguf.KV
}

// DefaultBatchSize is the prompt batch size when Options.BatchSize is 0.
const DefaultBatchSize = 512

// Model is a loaded model: its weights (in place in the file's bytes, read or
// mapped),
// hyperparameters, tokenizer and worker pool. A Model is safe for concurrent
// use by several Sessions; Close it when done.
type Model struct {
	cfg     Config
	opts    Options
	path    string
	file    *gguf.File
	tok     *tokenizer.Tokenizer
	pool    *kernels.Pool
	embed   *kernels.Dense
	norm    []float32 // output_norm
	output  *linear   // output.weight, or token_embd when tied
	outputG group
	layers  []layer
}

// Load opens a GGUF model file, read into memory or mapped (Options.Map),
// until Close; ternary weights are used in place, except TL1/TL2 tensors,
// which are repacked to I2_S in memory. Every tensor's presence, type and
// shape is checked here, so a bad file fails with a message naming the
// tensor or key.
func Load(path string, opts Options) (*Model, error) {
	open := gguf.Open
	if !opts.Map && readFits(path) {
		open = gguf.Read
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	m, err := load(f, path, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

func load(f *gguf.File, path string, opts Options) (*Model, error) {
	for _, kv := range opts.Overrides {
		slog.Debug("metadata override", "file", path, "key", kv.Key, "value", kv.Value)
		f.Set(kv)
	}
	fam, err := lookupFamily(f.Arch(), path)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(f, path, fam.neox)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.Context < 0:
		return nil, fmt.Errorf("context %d: must not be negative", opts.Context)
	case opts.Context == 0:
		opts.Context = cfg.Context
	case opts.Context > cfg.Context:
		return nil, fmt.Errorf("%s: context %d is longer than the model allows (%s.context_length = %d)", path, opts.Context, cfg.Arch, cfg.Context)
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("batch size %d: must not be negative", opts.BatchSize)
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	m := &Model{cfg: *cfg, opts: opts, path: path, file: f}
	ld := newLoader(f, path)
	ld.checkDense = opts.CheckTensors
	if err := m.bind(ld, fam); err != nil {
		return nil, err
	}
	for _, t := range f.Tensors {
		if !ld.used[t.Name] {
			slog.Warn("tensor not used by the model", "file", path, "tensor", t.Name)
		}
	}
	if _, ok := f.Get("tokenizer.ggml.model"); ok {
		if m.tok, err = tokenizer.FromGGUF(f); err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", path, err)
		}
		for _, note := range m.tok.Inferred() {
			slog.Debug("tokenizer: "+note, "file", path)
		}
	}
	m.pool = kernels.NewPool(opts.Threads)
	slog.Debug("model loaded", "file", path, "arch", cfg.Arch, "layers", cfg.Layers, "embedding", cfg.Embedding,
		"vocab", m.cfg.Vocab, "context", opts.Context, "threads", m.pool.Threads(), "kernels", kernels.Paths())
	return m, nil
}

// bind attaches every tensor of the model.
func (m *Model) bind(ld *loader, fam family) error {
	c := &m.cfg
	t, ok := ld.f.Tensor("token_embd.weight")
	if !ok {
		return fmt.Errorf("%s: missing tensor token_embd.weight", ld.path)
	}
	if len(t.Shape) < 2 || t.Shape[1] == 0 || t.Shape[1] > 1<<24 {
		return ld.errorf(t.Name, "shape %v, want [%d, n_vocab]", t.Shape, c.Embedding)
	}
	c.Vocab = int(t.Shape[1])
	var err error
	if m.embed, err = ld.dense("token_embd.weight", c.Vocab, c.Embedding); err != nil {
		return err
	}
	if m.norm, err = ld.vector("output_norm.weight", c.Embedding); err != nil {
		return err
	}
	if ld.has("output.weight") {
		if m.output, err = ld.linear("output.weight", c.Vocab, c.Embedding); err != nil {
			return err
		}
	} else {
		c.TiedOutput = true
		m.output = &linear{name: "token_embd.weight", dense: m.embed}
	}
	m.outputG = newGroup(m.output)
	m.layers = make([]layer, c.Layers)
	for il := range m.layers {
		if m.layers[il], err = fam.load(ld, c, il); err != nil {
			return err
		}
	}
	// Chain the groups in the order of a decode step, the head followed by
	// the first block of the next step.
	chain := []*group{}
	for _, l := range m.layers {
		chain = append(chain, l.matmuls()...)
	}
	chain = append(chain, &m.outputG)
	for i, g := range chain {
		g.next = chain[(i+1)%len(chain)]
	}
	if ld.has(blockName(c.Layers, "attn_norm")) {
		return fmt.Errorf("%s: tensor %s exists but block_count is %d", ld.path, blockName(c.Layers, "attn_norm"), c.Layers)
	}
	return nil
}

// Config returns the model's hyperparameters.
func (m *Model) Config() Config { return m.cfg }

// Context is the per-sequence context length Sessions of this model accept.
func (m *Model) Context() int { return m.opts.Context }

// Threads is the number of threads the matmuls use.
func (m *Model) Threads() int { return m.pool.Threads() }

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// File gives access to the GGUF metadata (valid until Close).
func (m *Model) File() *gguf.File { return m.file }

// Tokenizer returns the model's tokenizer, or nil when the file has no
// tokenizer metadata.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// ErrNoTokenizer is returned by operations that need text when the model
// file carries no tokenizer.
var ErrNoTokenizer = errors.New("the model file has no tokenizer")

// Close stops the worker pool and unmaps the file. The Model and its
// Sessions must not be used afterwards.
func (m *Model) Close() error {
	if m.pool != nil {
		m.pool.Close()
		m.pool = nil
	}
	return m.file.Close()
}

// EOG reports the end-of-generation token ids (empty without a tokenizer).
func (m *Model) EOG() []int32 {
	if m.tok == nil {
		return nil
	}
	return slices.Clone(m.tok.EOG())
}
