package runtime

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// goldenDir locates ../shared/golden from the package directory, skipping
// the test when it is absent.
func goldenDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("golden data not found at %s (bitnet.cpp outputs; see DESIGN.md): %v", dir, err)
	}
	return dir
}

type goldenPrompt struct {
	Text          string  `json:"text"`
	TokensWithBOS []int32 `json:"tokens_with_bos"`
	NVocab        int     `json:"n_vocab"`
}

type goldenGreedy struct {
	PromptTokens []int32 `json:"prompt_tokens"`
	Tokens       []int32 `json:"tokens"`
	Steps        []struct {
		Token         int32   `json:"token"`
		Logit         float32 `json:"logit"`
		RunnerUpLogit float32 `json:"runner_up_logit"`
	} `json:"steps"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readF32(t testing.TB, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// logitStats compares logits row by row ([rows][vocab]).
type logitStats struct {
	rows, top1 int
	maxDiff    float64
	lo, hi     float64 // range of the reference
}

func (s logitStats) rel() float64 { return s.maxDiff / (s.hi - s.lo) }
func (s logitStats) agree() float64 {
	return float64(s.top1) / float64(s.rows)
}

func compareLogits(ref, got []float32, vocab int) logitStats {
	st := logitStats{rows: len(ref) / vocab, lo: math.Inf(1), hi: math.Inf(-1)}
	for r := 0; r < st.rows; r++ {
		a, b := ref[r*vocab:(r+1)*vocab], got[r*vocab:(r+1)*vocab]
		if argmax(a) == argmax(b) {
			st.top1++
		}
		for i := range a {
			st.lo, st.hi = min(st.lo, float64(a[i])), max(st.hi, float64(a[i]))
			st.maxDiff = max(st.maxDiff, math.Abs(float64(a[i])-float64(b[i])))
		}
	}
	return st
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

var goldenModels = []string{"bitnet-b158-tiny", "bitnet-silu-tiny", "llama-ternary-tiny"}

// TestGoldenLogits runs every GGUF bitnet.cpp made for the golden models
// over the golden prompt and compares the logits of every position with
// bitnet.cpp's.
func TestGoldenLogits(t *testing.T) {
	root := goldenDir(t)
	for _, model := range goldenModels {
		for _, typ := range []string{"f32", "i2_s", "tl2"} {
			t.Run(model+"/"+typ, func(t *testing.T) {
				dir := filepath.Join(root, model)
				path := filepath.Join(dir, "bitnetcpp-"+typ+".gguf")
				if _, err := os.Stat(path); err != nil {
					t.Skipf("no %s", path)
				}
				var p goldenPrompt
				readJSON(t, filepath.Join(dir, "prompt.json"), &p)
				m, err := Load(path, Options{Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				seq, err := m.NewSession(1).NewSequence()
				if err != nil {
					t.Fatal(err)
				}
				got, err := seq.PromptLogits(p.TokensWithBOS)
				if err != nil {
					t.Fatal(err)
				}
				ref := readF32(t, filepath.Join(dir, "bitnetcpp-"+typ+".logits.f32"))
				st := compareLogits(ref, got, p.NVocab)
				t.Logf("%s %s: top-1 %d/%d (%.1f%%), max|Δ| %.4g = %.3f%% of range %.3g", model, typ, st.top1, st.rows, 100*st.agree(), st.maxDiff, 100*st.rel(), st.hi-st.lo)
			})
		}
	}
}
