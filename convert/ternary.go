package convert

import (
	"fmt"

	"github.com/bitnet-go/bitnet/quantize"
)

// TernaryWeight is a projection in ternary form: W = T · Scale.
type TernaryWeight struct {
	Rows, Cols int
	// T holds the codes in {-1, 0, +1}, row-major [Rows][Cols], in the
	// checkpoint's (Hugging Face) row order.
	T []int8
	// Scale is the multiplicative per-tensor scale, the value I2_S, TL1 and
	// TL2 store.
	Scale float32
}

// Ternary returns a projection of the checkpoint (by Hugging Face name) as
// ternary codes and scale, with Hugging Face semantics: float masters are
// ternarized with absmean, packed weights are unpacked and their
// weight_scale interpreted according to quantization_config.linear_class.
func (c *Checkpoint) Ternary(hfName string) (*TernaryWeight, error) {
	for _, w := range c.weights {
		if w.HFName == hfName && w.Role == RoleProjection {
			return c.ternary(w, nil, nil)
		}
	}
	return nil, fmt.Errorf("%s: %q is not a projection of this checkpoint", c.Dir, hfName)
}

// ternary loads w's codes into codes (allocated when the length is wrong)
// and drops the source pages from the resident set afterwards. For float
// masters, a non-nil f (len ≥ Rows·Cols) receives the decoded weights;
// otherwise they are streamed and never held whole.
func (c *Checkpoint) ternary(w Weight, codes []int8, f []float32) (*TernaryWeight, error) {
	t := c.byName[w.HFName]
	defer t.release()
	n := w.Rows * w.Cols
	if len(codes) != n {
		codes = make([]int8, n)
	}
	tw := &TernaryWeight{Rows: w.Rows, Cols: w.Cols, T: codes}
	if w.Packed {
		if err := quantize.UnpackHF(tw.T, t.Data, w.Rows, w.Cols); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", t.File, t.Name, err)
		}
		st := c.byName[w.HFName+"_scale"]
		ws, err := st.scalar()
		if err != nil {
			return nil, err
		}
		lc, err := quantize.ParseLinearClass(c.Arch.LinearClass)
		if err != nil {
			return nil, err
		}
		if tw.Scale, err = lc.Scale(ws); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", st.File, st.Name, err)
		}
		return tw, nil
	}
	if f != nil {
		// The caller wants the float masters too (F16/F32 output).
		if err := t.readFloats(f[:n], 0); err != nil {
			return nil, err
		}
		var err error
		if tw.Scale, err = absmeanTorch(tw.T, f[:n]); err != nil {
			return nil, fmt.Errorf("%s: tensor %q: %w", t.File, t.Name, err)
		}
		return tw, nil
	}
	var err error
	if tw.Scale, err = absmeanStream(t, tw.T); err != nil {
		return nil, err
	}
	return tw, nil
}

// absmeanChunk is how many weights absmeanStream decodes at a time (a
// multiple of torchRow).
const absmeanChunk = 1 << 16

// absmeanStream is absmeanTorch over a float tensor read in chunks: the
// whole tensor is never decoded to float32, so ternarizing costs one byte
// per weight (the codes) instead of five. It reads the tensor twice (sum,
// then codes) and drops its pages from the resident set as it goes.
func absmeanStream(t *Tensor, codes []int8) (float32, error) {
	n := len(codes)
	es := dtypeSize(t.DType)
	buf := make([]float32, min(n, absmeanChunk))
	read := func(from, cnt int) ([]float32, error) {
		f := buf[:cnt]
		err := t.readFloats(f, from)
		t.releaseRange(from*es, cnt*es)
		return f, err
	}
	sum := newTorchAbsSummer(n)
	head := sum.rowElements()
	for from := 0; from < head; from += absmeanChunk {
		f, err := read(from, min(absmeanChunk, head-from))
		if err != nil {
			return 0, err
		}
		sum.addRows(f)
	}
	rest, err := read(head, n-head)
	if err != nil {
		return 0, err
	}
	s, err := absmeanFactor(sum.finish(rest), n)
	if err != nil {
		return 0, fmt.Errorf("%s: tensor %q: %w", t.File, t.Name, err)
	}
	for from := 0; from < n; from += absmeanChunk {
		f, err := read(from, min(absmeanChunk, n-from))
		if err != nil {
			return 0, err
		}
		ternarize(codes[from:], f, s)
	}
	return 1 / s, nil
}

// permuteRows reorders the rows of a [rows][cols] matrix the way llama.cpp's
// converter permutes q and k for NORM rope: within each head of hd rows, the
// two halves (HF's rotate_half pairs) are interleaved, so GGUF row
// h·hd + 2i + j is HF row h·hd + j·hd/2 + i.
func permuteRows[T any](dst, src []T, rows, cols, heads int) error {
	if heads <= 0 || rows%heads != 0 || (rows/heads)%2 != 0 {
		return fmt.Errorf("cannot permute %d rows over %d heads (head size must be even)", rows, heads)
	}
	hd := rows / heads
	half := hd / 2
	for h := range heads {
		for i := range half {
			for j := range 2 {
				d := (h*hd + 2*i + j) * cols
				s := (h*hd + j*half + i) * cols
				copy(dst[d:d+cols], src[s:s+cols])
			}
		}
	}
	return nil
}
