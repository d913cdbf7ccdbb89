package verify

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/runtime"
)

func TestPplStats(t *testing.T) {
	// Constant NLL: no spread, perplexity exp(nll).
	ppl, se := pplStats(3*2.0, 3*4.0, 3)
	if math.Abs(ppl-math.Exp(2)) > 1e-12 || se != 0 {
		t.Fatalf("ppl %v ± %v", ppl, se)
	}
	// NLLs 1 and 3: mean 2, variance 1, stderr = e² · sqrt(1/1).
	ppl, se = pplStats(4, 10, 2)
	if math.Abs(ppl-math.Exp(2)) > 1e-12 || math.Abs(se-math.Exp(2)) > 1e-12 {
		t.Fatalf("ppl %v ± %v", ppl, se)
	}
}

func TestPerplexity(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	layout := tinyLayouts[0]
	if err := convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: &layout, Type: 36, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load(path, runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tokens := m.Tokenizer().Encode(strings.Repeat("the quick brown fox jumps over the lazy dog. ", 30), true, false)
	calls := 0
	res, err := Perplexity(context.Background(), m, tokens, 64, func(done, total int, r PerplexityResult) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	wantChunks := len(tokens) / 64
	if res.Chunks != wantChunks || calls != wantChunks || res.Scored != wantChunks*31 {
		t.Fatalf("%+v, %d progress calls, %d tokens", res, calls, len(tokens))
	}
	// A random model is close to uniform over its vocabulary.
	if res.PPL < 2 || res.PPL > 4*float64(m.Config().Vocab) || math.IsNaN(res.StdErr) {
		t.Fatalf("implausible perplexity %+v", res)
	}
	if _, err := Perplexity(context.Background(), m, tokens[:10], 64, nil); err == nil {
		t.Fatal("text shorter than a chunk accepted")
	}
}
