package verify

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime"
)

// Thresholds decide when a conversion counts as lossless. The defaults come
// from what is achievable: the runtime forms the exact integer W2A8 sums, so
// what separates it from the float64 reference is float32 rounding of norms,
// attention and the head, which the int8 activation quantization turns into
// an occasional whole quantization step. bitnet.cpp itself stays within
// about 1-2.5 % of the logit range of this reference (golden README §5);
// a wrong tensor, scale or layout is off by far more (tens of percent).
type Thresholds struct {
	// MinTop1 is the least fraction of positions whose argmax must agree,
	// counting as agreement a near tie: a position where the reference's
	// own logits for the two tokens differ by less than MaxRelDiff of the
	// logit range (random test models have many such positions).
	MinTop1 float64
	// MaxRelDiff bounds max |Δlogit| divided by the reference logit range.
	MaxRelDiff float64
	// MaxMeanKL bounds the mean KL(reference ‖ runtime) in nats.
	MaxMeanKL float64
	// LayerRelDiff is the tolerance for hidden states with Options.Layers:
	// ‖Δ‖₂/‖reference‖₂ over a layer's residual stream (all positions). An
	// L2 ratio rather than a max: one flipped int8 step moves a single
	// element a lot but the whole stream very little.
	LayerRelDiff float64
}

// DefaultThresholds are the documented pass criteria of bitnet verify.
func DefaultThresholds() Thresholds {
	return Thresholds{MinTop1: 0.95, MaxRelDiff: 0.03, MaxMeanKL: 2e-3, LayerRelDiff: 0.05}
}

// DefaultPrompts are used when the caller gives none: plain prose, code and
// digits, and text with non-ASCII characters.
var DefaultPrompts = []string{
	"The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.",
	"func main() {\n\tfor i := 0; i < 10; i++ {\n\t\tfmt.Println(i * 42)\n\t}\n}",
	"Une tasse de café coûte 2,50 € à Zürich; 東京 is 9,000 km away ✓",
}

// GreedySteps is how many tokens of greedy continuation are compared.
const GreedySteps = 16

// Options configure Run.
type Options struct {
	CheckpointDir string // Hugging Face checkpoint directory
	ModelPath     string // GGUF file
	Prompts       []string
	Threads       int
	// Layers also compares the residual stream after every layer and
	// reports the first that diverges.
	Layers     bool
	Thresholds Thresholds
}

// PromptResult is the comparison for one prompt.
type PromptResult struct {
	Prompt string     `json:"prompt"`
	Tokens int        `json:"tokens"`
	Logits LogitStats `json:"logits"`
	// GreedyMatch: the runtime's greedy continuation equals the reference's.
	GreedyMatch bool `json:"greedy_match"`
	// GreedyDivergence is the first differing step, or -1; GreedyMargin is
	// the reference's top-2 logit gap there (a near tie is not a failure).
	GreedyDivergence int     `json:"greedy_divergence"`
	GreedyMargin     float64 `json:"greedy_margin,omitempty"`
	Reference        []int32 `json:"reference_greedy"`
	Runtime          []int32 `json:"runtime_greedy"`
	// FirstBadLayer is the first layer whose hidden states diverge beyond
	// Thresholds.LayerRelDiff (-1: none; only with Options.Layers).
	FirstBadLayer int       `json:"first_bad_layer"`
	LayerRelDiff  []float64 `json:"layer_rel_diff,omitempty"`
	Pass          bool      `json:"pass"`
	Failures      []string  `json:"failures,omitempty"`
}

// Report is the outcome of Run.
type Report struct {
	Checkpoint string         `json:"checkpoint"`
	Model      string         `json:"model"`
	Arch       string         `json:"arch"`
	WeightType string         `json:"weight_type"`
	Reference  string         `json:"reference"`
	Thresholds Thresholds     `json:"thresholds"`
	Prompts    []PromptResult `json:"prompts"`
	Pass       bool           `json:"pass"`
}

// ErrNotLossless is returned (wrapped) by Run when any prompt fails.
var ErrNotLossless = errors.New("conversion is not lossless")

// Run loads the checkpoint's reference and the GGUF's runtime model and
// compares them on every prompt. It returns the report and, when a prompt
// fails the thresholds, an error wrapping ErrNotLossless.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Thresholds == (Thresholds{}) {
		opts.Thresholds = DefaultThresholds()
	}
	if len(opts.Prompts) == 0 {
		opts.Prompts = DefaultPrompts
	}
	model, err := runtime.Load(opts.ModelPath, runtime.Options{Threads: opts.Threads})
	if err != nil {
		return nil, err
	}
	defer model.Close()
	tok := model.Tokenizer()
	if tok == nil {
		return nil, fmt.Errorf("%s: %w", opts.ModelPath, runtime.ErrNoTokenizer)
	}
	ck, err := convert.OpenCheckpoint(opts.CheckpointDir)
	if err != nil {
		return nil, err
	}
	defer ck.Close()
	wt := projectionType(model.File())
	// F32/F16 projections run as float matmuls in the runtime (as in
	// bitnet.cpp), so they are compared with a float-activation reference.
	float := wt == gguf.F32 || wt == gguf.F16 || wt == gguf.BF16
	ref, err := NewReference(ck, ReferenceOptions{FloatActivations: float})
	if err != nil {
		return nil, err
	}
	if ref.cfg.vocab != model.Config().Vocab {
		return nil, fmt.Errorf("%s has a vocabulary of %d, %s of %d: not the same model", opts.CheckpointDir, ref.cfg.vocab, opts.ModelPath, model.Config().Vocab)
	}
	rep := &Report{Checkpoint: opts.CheckpointDir, Model: opts.ModelPath, Arch: model.Config().Arch,
		WeightType: wt.String(), Thresholds: opts.Thresholds, Pass: true,
		Reference: "float64, Hugging Face semantics, int8 activations"}
	if float {
		rep.Reference = "float64, Hugging Face weights, float activations (as the runtime's F32/F16 path)"
	}
	// Two slots: the prompt's sequence stays open while --layers replays it.
	sess := model.NewSession(2)
	for _, text := range opts.Prompts {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		tokens := tok.Encode(text, true, false)
		if len(tokens)+GreedySteps > model.Context() {
			return rep, fmt.Errorf("prompt of %d tokens does not fit the context of %d with %d generated tokens", len(tokens), model.Context(), GreedySteps)
		}
		res, err := comparePrompt(ctx, ref, sess, tokens, opts)
		if err != nil {
			return rep, err
		}
		res.Prompt = text
		rep.Prompts = append(rep.Prompts, *res)
		rep.Pass = rep.Pass && res.Pass
	}
	if !rep.Pass {
		return rep, fmt.Errorf("%s against %s: %w", opts.ModelPath, opts.CheckpointDir, ErrNotLossless)
	}
	return rep, nil
}

func comparePrompt(ctx context.Context, ref *Reference, sess *runtime.Session, tokens []int32, opts Options) (*PromptResult, error) {
	th := opts.Thresholds
	res := &PromptResult{Tokens: len(tokens), GreedyDivergence: -1, FirstBadLayer: -1}
	seq, err := sess.NewSequence()
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	flat, err := seq.PromptLogits(tokens)
	if err != nil {
		return nil, err
	}
	vocab := ref.cfg.vocab
	got := make([][]float64, len(tokens))
	for p := range got {
		got[p] = toFloat64(flat[p*vocab : (p+1)*vocab])
	}
	tr, err := ref.Forward(tokens, opts.Layers)
	if err != nil {
		return nil, err
	}
	res.Logits = CompareLogits(tr.Logits, got, th.MaxRelDiff)

	// Greedy continuation: the runtime decodes incrementally from its KV
	// cache, the reference recomputes the whole sequence each step.
	res.Runtime, err = runtimeGreedy(ctx, seq, GreedySteps)
	if err != nil {
		return nil, err
	}
	res.Reference, res.GreedyDivergence, res.GreedyMargin, err = referenceGreedy(ref, tokens, res.Runtime)
	if err != nil {
		return nil, err
	}
	res.GreedyMatch = res.GreedyDivergence < 0

	if opts.Layers {
		hidden, err := runtimeHidden(sess, tokens)
		if err != nil {
			return nil, err
		}
		for l := range tr.Hidden {
			d := relDiff(tr.Hidden[l], hidden[l])
			res.LayerRelDiff = append(res.LayerRelDiff, d)
			if d > th.LayerRelDiff && res.FirstBadLayer < 0 {
				res.FirstBadLayer = l
			}
		}
	}

	s := res.Logits
	if s.Top1Decisive < th.MinTop1 {
		res.Failures = append(res.Failures, fmt.Sprintf("top-1 agreement %.1f%% (%.1f%% counting near ties) < %.1f%% (first mismatch at position %d)", 100*s.Top1Agreement, 100*s.Top1Decisive, 100*th.MinTop1, s.FirstTop1Mismatch))
	}
	if s.RelMaxAbsDiff > th.MaxRelDiff {
		res.Failures = append(res.Failures, fmt.Sprintf("max |Δlogit| %.3g is %.2f%% of the logit range > %.2f%%", s.MaxAbsDiff, 100*s.RelMaxAbsDiff, 100*th.MaxRelDiff))
	}
	if s.MeanKL > th.MaxMeanKL {
		res.Failures = append(res.Failures, fmt.Sprintf("mean KL %.3g > %.3g", s.MeanKL, th.MaxMeanKL))
	}
	// A greedy divergence counts only where the reference was decisive:
	// with a top-2 gap below the logit tolerance either token is correct.
	if !res.GreedyMatch && res.GreedyMargin > th.MaxRelDiff*logitRange(tr.Logits) {
		res.Failures = append(res.Failures, fmt.Sprintf("greedy continuation diverges at step %d where the reference's top-2 margin is %.3g", res.GreedyDivergence, res.GreedyMargin))
	}
	if res.FirstBadLayer >= 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("hidden states diverge first after layer %d (%.2f%% > %.2f%%)", res.FirstBadLayer, 100*res.LayerRelDiff[res.FirstBadLayer], 100*th.LayerRelDiff))
	}
	res.Pass = len(res.Failures) == 0
	return res, nil
}

// runtimeGreedy continues seq (whose logits follow the prompt) greedily,
// ignoring end-of-generation tokens so both sides run the same steps.
func runtimeGreedy(ctx context.Context, seq *runtime.Sequence, steps int) ([]int32, error) {
	out := make([]int32, 0, steps)
	for range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		next := int32(argmax(seq.Logits()))
		out = append(out, next)
		if err := seq.Decode(next); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// referenceGreedy runs the reference's greedy continuation. Where it first
// departs from the runtime's tokens it reports the step and the reference's
// top-2 margin there, then keeps following its own choices.
func referenceGreedy(ref *Reference, prompt, runtimeTokens []int32) ([]int32, int, float64, error) {
	seqTokens := append([]int32(nil), prompt...)
	var out []int32
	div, margin := -1, 0.0
	for step := range len(runtimeTokens) {
		tr, err := ref.Forward(seqTokens, false)
		if err != nil {
			return nil, -1, 0, err
		}
		last := tr.Logits[len(tr.Logits)-1]
		best := argmax(last)
		out = append(out, int32(best))
		if div < 0 && int32(best) != runtimeTokens[step] {
			div = step
			margin = last[best] - last[runtimeTokens[step]]
		}
		seqTokens = append(seqTokens, int32(best))
	}
	return out, div, margin, nil
}

// projectionType is the tensor type of the first layer's query projection,
// which decides how the runtime multiplies (ternary kernels or float).
func projectionType(f *gguf.File) gguf.Type {
	if t, ok := f.Tensor("blk.0.attn_q.weight"); ok {
		return t.Type
	}
	return gguf.I2_S
}

func toFloat64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func logitRange(l [][]float64) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range l {
		for _, v := range row {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return hi - lo
}

// relDiff is ‖a−b‖₂/‖a‖₂ over every position.
func relDiff(a [][]float64, b [][]float32) float64 {
	var d, m float64
	for p := range a {
		for i, v := range a[p] {
			e := v - float64(b[p][i])
			d += e * e
			m += v * v
		}
	}
	if m == 0 {
		return math.Sqrt(d)
	}
	return math.Sqrt(d / m)
}

// runtimeHidden evaluates tokens in a fresh sequence and returns the
// residual stream after every layer, [layer][position][Embedding].
func runtimeHidden(sess *runtime.Session, tokens []int32) ([][][]float32, error) {
	d := sess.Model().Config().Embedding
	var hidden [][][]float32
	sess.SetLayerHook(func(layer int, x []float32) {
		for len(hidden) <= layer {
			hidden = append(hidden, nil)
		}
		for i := 0; i+d <= len(x); i += d {
			hidden[layer] = append(hidden[layer], append([]float32(nil), x[i:i+d]...))
		}
	})
	defer sess.SetLayerHook(nil)
	seq, err := sess.NewSequence()
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	if err := seq.Prompt(tokens); err != nil {
		return nil, err
	}
	return hidden, nil
}
