package verify

import "math"

// Trace holds what a forward pass computed, position by position.
type Trace struct {
	// Logits[pos][token].
	Logits [][]float64
	// Hidden[layer][pos] is the residual stream after each decoder layer,
	// recorded only when asked for.
	Hidden [][][]float64
}

// Forward runs the whole token sequence (positions 0..len-1, causal
// attention) and returns the logits of every position. With hidden set it
// also records the residual stream after every layer.
func (r *Reference) Forward(tokens []int32, hidden bool) (*Trace, error) {
	c := r.cfg
	for i, id := range tokens {
		if id < 0 || int(id) >= c.vocab {
			return nil, &TokenError{Pos: i, ID: id, Vocab: c.vocab}
		}
	}
	n := len(tokens)
	x := make([][]float64, n)
	for p, id := range tokens {
		x[p] = append([]float64(nil), r.embed.row(int(id))...)
	}
	tr := &Trace{}
	for _, l := range r.layers {
		h := make([][]float64, n)
		for p := range x {
			h[p] = rmsNorm(x[p], l.attnNorm, c.eps)
		}
		attn := r.attention(&l, h)
		for p := range x {
			add(x[p], attn[p])
			f := r.feedForward(&l, rmsNorm(x[p], l.ffnNorm, c.eps))
			add(x[p], f)
		}
		if hidden {
			snap := make([][]float64, n)
			for p := range x {
				snap[p] = append([]float64(nil), x[p]...)
			}
			tr.Hidden = append(tr.Hidden, snap)
		}
	}
	tr.Logits = make([][]float64, n)
	for p := range x {
		tr.Logits[p] = r.head.mulVec(rmsNorm(x[p], r.outputNorm, c.eps))
	}
	return tr, nil
}

// attention is multi-head causal self-attention with grouped KV heads and
// rotary embeddings in Hugging Face's rotate_half convention.
func (r *Reference) attention(l *refLayer, h [][]float64) [][]float64 {
	c := r.cfg
	n := len(h)
	q, k, v := make([][]float64, n), make([][]float64, n), make([][]float64, n)
	for p := range h {
		q[p], k[p], v[p] = l.q.apply(h[p]), l.k.apply(h[p]), l.v.apply(h[p])
		r.rope(q[p], c.heads, p)
		r.rope(k[p], c.kvHeads, p)
	}
	group := c.heads / c.kvHeads
	scale := 1 / math.Sqrt(float64(c.headDim))
	out := make([][]float64, n)
	for p := range h {
		o := make([]float64, c.heads*c.headDim)
		for hd := range c.heads {
			kv := hd / group
			qh := q[p][hd*c.headDim : (hd+1)*c.headDim]
			scores := make([]float64, p+1)
			for j := 0; j <= p; j++ {
				scores[j] = dot(qh, k[j][kv*c.headDim:(kv+1)*c.headDim]) * scale
			}
			softmax(scores)
			oh := o[hd*c.headDim : (hd+1)*c.headDim]
			for j, w := range scores {
				vj := v[j][kv*c.headDim : (kv+1)*c.headDim]
				for d := range oh {
					oh[d] += w * vj[d]
				}
			}
		}
		if c.subNorms {
			o = rmsNorm(o, l.attnSubNorm, c.eps)
		}
		out[p] = l.o.apply(o)
	}
	return out
}

func (r *Reference) feedForward(l *refLayer, x []float64) []float64 {
	g, u := l.gate.apply(x), l.up.apply(x)
	for i := range g {
		switch r.cfg.activation {
		case "relu2":
			a := math.Max(g[i], 0)
			g[i] = a * a * u[i]
		default: // silu
			g[i] = g[i] / (1 + math.Exp(-g[i])) * u[i]
		}
	}
	if r.cfg.subNorms {
		g = rmsNorm(g, l.ffnSubNorm, r.cfg.eps)
	}
	return l.down.apply(g)
}

// rope rotates each head's vector in place: pairs (i, i+d/2) by angle
// pos·θ_i, θ_i = base^(-2i/d), Hugging Face's rotate_half layout.
func (r *Reference) rope(x []float64, heads, pos int) {
	d := r.cfg.headDim
	for h := range heads {
		v := x[h*d : (h+1)*d]
		for i := range d / 2 {
			ang := float64(pos) * r.invFreq(i)
			cos, sin := math.Cos(ang), math.Sin(ang)
			a, b := v[i], v[i+d/2]
			v[i], v[i+d/2] = a*cos-b*sin, b*cos+a*sin
		}
	}
}

// invFreq is the rotary frequency of pair i, with Llama 3's frequency
// scaling when the config asks for it.
func (r *Reference) invFreq(i int) float64 {
	d := float64(r.cfg.headDim)
	f := math.Pow(r.cfg.ropeTheta, -2*float64(i)/d)
	rs := r.cfg.ropeScaling
	if rs == nil || rs.Kind() != "llama3" || rs.Factor == 0 {
		return f
	}
	lowWave := float64(rs.OriginalMaxPositionEmbeddings) / rs.LowFreqFactor
	highWave := float64(rs.OriginalMaxPositionEmbeddings) / rs.HighFreqFactor
	wave := 2 * math.Pi / f
	switch {
	case wave < highWave:
		return f
	case wave > lowWave:
		return f / rs.Factor
	}
	smooth := (float64(rs.OriginalMaxPositionEmbeddings)/wave - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor)
	return (1-smooth)*f/rs.Factor + smooth*f
}

// apply is Hugging Face's BitLinear on one token: the input is quantized
// per token to int8 with absmax (s = 127/max(|x|, 1e-5), q = clamp(round(x·s),
// -128, 127)), multiplied by the ternary codes, and rescaled.
func (b *bitLinear) apply(x []float64) []float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	s := 127 / math.Max(m, 1e-5)
	q := make([]float64, len(x))
	for i, v := range x {
		q[i] = math.Max(-128, math.Min(127, math.RoundToEven(v*s)))
		if b.floatIn {
			q[i] = v * s
		}
	}
	out := make([]float64, b.out)
	for o := range out {
		row := b.t[o*b.in : (o+1)*b.in]
		var acc float64
		for i, t := range row {
			acc += float64(t) * q[i]
		}
		out[o] = acc / s * b.scale
	}
	return out
}

func (m matrix) row(i int) []float64 { return m.w[i*m.cols : (i+1)*m.cols] }

func (m matrix) mulVec(x []float64) []float64 {
	out := make([]float64, m.rows)
	for i := range out {
		out[i] = dot(m.row(i), x)
	}
	return out
}

func rmsNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * inv * w[i]
	}
	return out
}

func softmax(x []float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var sum float64
	for i, v := range x {
		x[i] = math.Exp(v - m)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func add(dst, x []float64) {
	for i := range dst {
		dst[i] += x[i]
	}
}
