package runtime

import (
	"math"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// refForward is a float64 forward pass of a tiny model written for reading,
// independent of the kernels: it returns the logits after every token.
// With quantActs, the input of every projection is quantized per token to
// int8 as FORMATS.md §4 says (the ternary path).
func refForward(s *tinySpec, w *tinyWeights, tokens []int32, quantActs bool) [][]float64 {
	hd := s.hidden / s.heads
	neox := s.arch != "llama"
	relu2 := s.arch == "bitnet-b1.58" || s.arch == "bitnet-25"
	n := len(tokens)
	x := make([][]float64, n)
	for i, t := range tokens {
		x[i] = slices.Clone(w.embed[int(t)*s.hidden : (int(t)+1)*s.hidden])
	}
	mul := func(p tinyProj, in []float64) []float64 {
		if quantActs {
			in = fakeQuant(in)
		}
		out := make([]float64, p.m)
		for m := range out {
			for k, v := range in {
				out[m] += p.w[m*p.k+k] * v
			}
		}
		return out
	}
	type kvPair struct{ k, v []float64 }
	for _, l := range w.layers {
		cache := make([]kvPair, n)
		qs := make([][]float64, n)
		for i := range n {
			h := refNorm(x[i], l.attnNorm)
			q, k, v := mul(l.q, h), mul(l.k, h), mul(l.v, h)
			refRope(q, s.heads, hd, i, neox)
			refRope(k, s.kvHeads, hd, i, neox)
			qs[i], cache[i] = q, kvPair{k, v}
		}
		for i := range n {
			att := make([]float64, s.heads*hd)
			for h := range s.heads {
				g := h / (s.heads / s.kvHeads)
				q := qs[i][h*hd : (h+1)*hd]
				scores := make([]float64, i+1)
				top := math.Inf(-1)
				for p := 0; p <= i; p++ {
					for d := range hd {
						scores[p] += q[d] * cache[p].k[g*hd+d]
					}
					scores[p] /= math.Sqrt(float64(hd))
					top = max(top, scores[p])
				}
				sum := 0.0
				for p := range scores {
					scores[p] = math.Exp(scores[p] - top)
					sum += scores[p]
				}
				for p := range scores {
					for d := range hd {
						att[h*hd+d] += scores[p] / sum * cache[p].v[g*hd+d]
					}
				}
			}
			if l.attnSub != nil {
				att = refNorm(att, l.attnSub)
			}
			for j, v := range mul(l.o, att) {
				x[i][j] += v
			}
		}
		for i := range n {
			h := refNorm(x[i], l.ffnNorm)
			gate, up := mul(l.gate, h), mul(l.up, h)
			for j := range gate {
				if relu2 {
					r := max(gate[j], 0)
					gate[j] = r * r * up[j]
				} else {
					gate[j] = gate[j] / (1 + math.Exp(-gate[j])) * up[j]
				}
			}
			if l.ffnSub != nil {
				gate = refNorm(gate, l.ffnSub)
			}
			for j, v := range mul(l.down, gate) {
				x[i][j] += v
			}
		}
	}
	logits := make([][]float64, n)
	for i := range n {
		h := refNorm(x[i], w.outNorm)
		logits[i] = make([]float64, s.vocab)
		for t := range logits[i] {
			for j, v := range h {
				logits[i][t] += w.output[t*s.hidden+j] * v
			}
		}
	}
	return logits
}

func refNorm(x, w []float64) []float64 {
	ss := 0.0
	for _, v := range x {
		ss += v * v
	}
	sc := 1 / math.Sqrt(ss/float64(len(x))+1e-5)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * sc * w[i]
	}
	return out
}

func refRope(x []float64, heads, hd, pos int, neox bool) {
	for h := range heads {
		v := x[h*hd : (h+1)*hd]
		for i := range hd / 2 {
			theta := float64(pos) * math.Pow(10000, -2*float64(i)/float64(hd))
			a, b := i, i+hd/2
			if !neox {
				a, b = 2*i, 2*i+1
			}
			c, s := math.Cos(theta), math.Sin(theta)
			v[a], v[b] = v[a]*c-v[b]*s, v[a]*s+v[b]*c
		}
	}
}

// fakeQuant returns x quantized to int8 with a per-token absmax scale and
// dequantized again.
func fakeQuant(x []float64) []float64 {
	mx := 1e-5
	for _, v := range x {
		mx = max(mx, math.Abs(v))
	}
	s := 127 / mx
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = max(-128, min(127, math.RoundToEven(v*s))) / s
	}
	return out
}

// TestReferenceForward compares the runtime with the float64 reference on
// tiny models of every architecture, ternary and float.
func TestReferenceForward(t *testing.T) {
	tokens := []int32{1, 5, 9, 63, 0, 17, 17, 42, 8, 30}
	for _, arch := range []string{"bitnet-b1.58", "bitnet-25", "bitnet", "llama"} {
		for _, proj := range []gguf.Type{gguf.F32, gguf.I2_S} {
			t.Run(arch+"/"+proj.String(), func(t *testing.T) {
				spec := defaultTiny(arch)
				spec.proj = proj
				spec.untied = arch == "llama"
				path, w := spec.write(t, t.TempDir())
				m, err := Load(path, Options{Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				seq, _ := m.NewSession(1).NewSequence()
				got, err := seq.PromptLogits(tokens)
				if err != nil {
					t.Fatal(err)
				}
				ternary := proj != gguf.F32
				ref := refForward(&spec, w, tokens, ternary)
				var flat []float32
				for _, r := range ref {
					for _, v := range r {
						flat = append(flat, float32(v))
					}
				}
				st := compareLogits(flat, got, spec.vocab)
				t.Logf("top-1 %d/%d, max|Δ| %.3g = %.4f%% of range %.3g", st.top1, st.rows, st.maxDiff, 100*st.rel(), st.hi-st.lo)
				// Float weights: float32 against float64 rounding only. Ternary:
				// an int8 step can flip where float32 and float64 round differently.
				tol := 1e-4
				if ternary {
					tol = 5e-3
				}
				if st.rel() > tol || st.top1 < st.rows-1 {
					t.Errorf("runtime differs from the reference beyond %g of the range", tol)
				}
			})
		}
	}
}
