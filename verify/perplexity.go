package verify

import (
	"context"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/runtime"
)

// PerplexityResult is the outcome of Perplexity.
type PerplexityResult struct {
	PPL    float64 // exp(mean negative log-likelihood)
	StdErr float64 // standard error of PPL, from the spread of the per-token NLLs
	Chunks int
	Scored int // tokens whose prediction was scored
}

// Perplexity computes perplexity the way llama.cpp's llama-perplexity does,
// so that figures can be compared: the tokens are cut into chunks of ctx
// tokens, each chunk starts with BOS (replacing its first token) when the
// model adds one, and only the predictions of the second half of every chunk
// are scored, so each scored token sees at least ctx/2 tokens of context.
// progress, if set, is called after each chunk.
func Perplexity(ctx context.Context, m *runtime.Model, tokens []int32, chunkLen int, progress func(done, total int, r PerplexityResult)) (PerplexityResult, error) {
	var res PerplexityResult
	if chunkLen < 4 {
		return res, fmt.Errorf("context of %d tokens is too short for perplexity", chunkLen)
	}
	if chunkLen > m.Context() {
		return res, fmt.Errorf("context of %d tokens exceeds the model's %d", chunkLen, m.Context())
	}
	chunks := len(tokens) / chunkLen
	if chunks == 0 {
		return res, fmt.Errorf("the text has %d tokens, fewer than one chunk of %d: use a longer text or a smaller -c", len(tokens), chunkLen)
	}
	tok := m.Tokenizer()
	sess := m.NewSession(1)
	vocab := m.Config().Vocab
	first := chunkLen / 2
	var nll, nll2 float64
	buf := make([]int32, chunkLen)
	for c := range chunks {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		copy(buf, tokens[c*chunkLen:(c+1)*chunkLen])
		if tok != nil && tok.AddBOS() && tok.BOS() >= 0 {
			buf[0] = tok.BOS()
		}
		seq, err := sess.NewSequence()
		if err != nil {
			return res, err
		}
		logits, err := seq.PromptLogits(buf)
		seq.Close()
		if err != nil {
			return res, err
		}
		for p := first; p < chunkLen-1; p++ {
			row := logits[p*vocab : (p+1)*vocab]
			v := -logProb(row, int(tokens[c*chunkLen+p+1]))
			nll += v
			nll2 += v * v
			res.Scored++
		}
		res.Chunks = c + 1
		res.PPL, res.StdErr = pplStats(nll, nll2, res.Scored)
		if progress != nil {
			progress(c+1, chunks, res)
		}
	}
	return res, nil
}

// pplStats turns sums of NLL and NLL² into perplexity and its standard
// error (the delta method, as llama-perplexity reports "± err").
func pplStats(nll, nll2 float64, n int) (ppl, stderr float64) {
	mean := nll / float64(n)
	ppl = math.Exp(mean)
	if n > 1 {
		if v := nll2/float64(n) - mean*mean; v > 0 {
			stderr = ppl * math.Sqrt(v/float64(n-1))
		}
	}
	return ppl, stderr
}

// logProb is log softmax(row)[i], computed in float64.
func logProb(row []float32, i int) float64 {
	m := math.Inf(-1)
	for _, v := range row {
		m = math.Max(m, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - m)
	}
	return float64(row[i]) - m - math.Log(sum)
}
