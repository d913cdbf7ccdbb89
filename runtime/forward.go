package runtime

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/bitnet-go/bitnet/kernels"
)

// state is the scratch memory of forward passes and the batch being
// evaluated. Buffers grow to the largest batch seen and are reused, so
// decoding one token after another allocates nothing.
type state struct {
	m     *Model
	cfg   *Config
	pool  *kernels.Pool
	cache *Cache

	n        int   // tokens in the batch
	seq, pos []int // per token
	rows     []int // tokens whose logits are wanted

	x, h         []float32 // residual stream and normed input, [n][Embedding]
	q, k, v, att []float32 // [n][QDim] / [n][KVDim]
	o            []float32 // projection back to the residual, [n][Embedding]
	gate, up     []float32 // [n][FFN]
	logits       []float32 // [len(rows)][Vocab]
	scores       []float32 // attention scratch, [threads][scoreStride]
	scoreStride  int
	qa           kernels.QActs
	outs         [3][]float32
	attnLayer    int
	attnScale    float32
	rope         []float32 // sines and cosines of positions [0, len/RopeDim), see ropeAngles
	attnFn       func(chunk, lo, hi int)
	prefetchFn   func(chunk, lo, hi int)
	attnNext     atomic.Int64 // the next attention unit to claim
	attnUnits    int          // attention units of the batch
	ropeFn       func(lo, hi int)
	act          gateFunc // the feed-forward activation being run by gateFn
	gateFn       func(lo, hi int)
	addFn        func(lo, hi int)
	norm         normArgs
	normFn       func(lo, hi int)
	layerHook    func(layer int, hidden []float32) // see Session.SetLayerHook
}

func newState(m *Model, c *Cache) *state {
	s := &state{m: m, cfg: &m.cfg, pool: m.pool, cache: c}
	s.attnScale = 1 / float32(math.Sqrt(float64(m.cfg.HeadDim))) // llama.cpp's 1.0f/sqrtf(n_embd_head)
	s.attnFn = s.attendClaimed
	s.prefetchFn = s.prefetchRange
	s.ropeFn = s.ropeRange
	s.gateFn = s.gateRange
	s.addFn = s.addRange
	s.normFn = s.normRange
	return s
}

// grow returns buf with length n, reallocating (with room to spare, since
// the attention scratch grows by one position per decoded token) only when
// its capacity is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n, max(n, 2*cap(buf)))
	}
	return buf[:n]
}

func (s *state) resize(n, maxPos int) {
	c := s.cfg
	s.x = grow(s.x, n*c.Embedding)
	s.h = grow(s.h, n*max(c.Embedding, c.QDim()))
	s.q = grow(s.q, n*c.QDim())
	s.k = grow(s.k, n*c.KVDim())
	s.v = grow(s.v, n*c.KVDim())
	s.att = grow(s.att, n*c.QDim())
	s.o = grow(s.o, n*c.Embedding)
	s.gate = grow(s.gate, n*c.FFN)
	s.up = grow(s.up, n*c.FFN)
	s.scoreStride = maxPos
	s.scores = grow(s.scores, s.pool.Threads()*maxPos)
	if cap(s.seq) < n {
		s.seq = make([]int, n)
	}
	s.seq = s.seq[:n]
}

// forward evaluates batch b, appending its tokens to their sequences in the
// cache, and returns the logits of the tokens b asks logits for, row-major
// [rows][Vocab]. The slice is reused by the next forward.
func (s *state) forward(b *Batch) ([]float32, error) {
	c := s.cfg
	n := len(b.Tokens)
	if n == 0 {
		return nil, nil
	}
	if len(b.Seqs) != n || (b.Logits != nil && len(b.Logits) != n) {
		return nil, fmt.Errorf("batch: %d tokens, %d sequence ids, %d logit flags", n, len(b.Seqs), len(b.Logits))
	}
	for i, t := range b.Tokens {
		if t < 0 || int(t) >= c.Vocab {
			return nil, fmt.Errorf("batch token %d: id %d is outside the vocabulary (%d tokens)", i, t, c.Vocab)
		}
	}
	if cap(s.pos) < n {
		s.pos = make([]int, n)
	}
	s.pos = s.pos[:n]
	if err := s.cache.reserve(b, s.pos); err != nil {
		return nil, err
	}
	maxPos := 0
	for _, p := range s.pos[:n] {
		maxPos = max(maxPos, p+1)
	}
	s.resize(n, maxPos)
	s.n = n
	copy(s.seq, b.Seqs)

	d := c.Embedding
	for i, t := range b.Tokens {
		s.m.embed.Row(s.x[i*d:(i+1)*d], int(t))
	}
	for il, l := range s.m.layers {
		l.forward(s, il)
		if s.layerHook != nil {
			s.layerHook(il, s.x[:n*d])
		}
	}
	s.cache.commit()

	s.rows = s.rows[:0]
	for i := range n {
		if b.wantLogits(i) {
			s.rows = append(s.rows, i)
		}
	}
	for j, i := range s.rows {
		kernels.RMSNorm(s.h[j*d:(j+1)*d], s.x[i*d:(i+1)*d], s.m.norm, c.NormEps)
	}
	s.logits = grow(s.logits, len(s.rows)*c.Vocab)
	s.project(s.h, len(s.rows), d, s.m.outputG, s.bind(s.logits))
	return s.logits, nil
}

// bind puts the output buffers of a projection into the reusable slice
// project takes, so that no call allocates.
func (s *state) bind(outs ...[]float32) [][]float32 {
	n := copy(s.outs[:], outs)
	return s.outs[:n]
}

// project computes outs[i] = g.ls[i]·x for the n rows of x (k columns each).
// Ternary weights read x quantized per token to int8 (FORMATS.md §4), once
// for the whole group; float weights read x as is.
func (s *state) project(x []float32, n, k int, g group, outs [][]float32) {
	x = x[:n*k]
	for i, l := range g.ls {
		outs[i] = outs[i][:n*l.rows()]
	}
	if g.next != nil {
		defer g.next.announce(s.pool)
	}
	if g.ws != nil {
		s.qa.Quantize(x, n, k)
		if len(g.ws) == 1 {
			kernels.MatMulI2S(s.pool, outs[0], g.ws[0], &s.qa)
		} else {
			kernels.MatMulI2SMulti(s.pool, outs, g.ws, &s.qa)
		}
		return
	}
	quantized := false
	for i, l := range g.ls {
		if l.ternary == nil {
			kernels.MatMulDense(s.pool, outs[i], l.dense, x, n)
			continue
		}
		if !quantized {
			s.qa.Quantize(x, n, k)
			quantized = true
		}
		kernels.MatMulI2S(s.pool, outs[i], l.ternary, &s.qa)
	}
}

// normRows sets dst row i = RMSNorm(src row i) for the batch, the rows
// spread over the pool (a batched step would otherwise leave the workers
// spinning through it).
func (s *state) normRows(dst, src, w []float32, width int) {
	s.norm = normArgs{dst, src, w, width}
	s.pool.Run(s.n, s.normFn)
	s.norm = normArgs{}
}

// normArgs are the operands of the normRows being run.
type normArgs struct {
	dst, src, w []float32
	width       int
}

func (s *state) normRange(lo, hi int) {
	a := &s.norm
	for i := lo; i < hi; i++ {
		kernels.RMSNorm(a.dst[i*a.width:(i+1)*a.width], a.src[i*a.width:(i+1)*a.width], a.w, s.cfg.NormEps)
	}
}

// attention runs the attention half of block il: x += o(attn(norm(x))),
// with the optional sub-norm on the attention output before o.
func (s *state) attention(a *attention, il int, subNorm []float32) {
	c := s.cfg
	d, qd := c.Embedding, c.QDim()
	s.normRows(s.h, s.x, a.norm, d)
	s.attnLayer = il
	s.pool.RunChunks(s.pool.Threads(), s.prefetchFn)
	s.project(s.h, s.n, d, a.qkv, s.bind(s.q, s.k, s.v))
	for i := range s.n {
		s.ropeAngles(s.pos[i]) // grow the table here: ropeRange runs on several threads
	}
	s.pool.Run(s.n, s.ropeFn)
	s.attnUnits = s.n * c.Heads
	s.attnNext.Store(0)
	s.pool.RunChunks(s.pool.Threads(), s.attnFn)
	if subNorm != nil {
		s.normRows(s.att, s.att, subNorm, qd)
	}
	s.project(s.att, s.n, qd, a.oG, s.bind(s.o))
	s.pool.Run(s.n, s.addFn)
}

// prefetchBytes bounds the keys and values one thread prefetches per layer,
// well under its share of the L2 cache that the projection's weights stream
// through on their way.
const prefetchBytes = 512 << 10

// prefetchRange asks thread chunk's core to load the cached keys and values
// that attention units [chunk·U/T, (chunk+1)·U/T) of the U in the batch read
// in layer s.attnLayer. It runs just before the QKV projection: attention
// comes right after it, with nothing else in flight, and from DRAM those
// short runs arrive at their latency (a 2B-4T decode token's attention
// measured 16-18 µs per layer with them cold, 7 µs hot), whereas prefetched
// here they load among the projection's weights. The claiming of units
// (attendClaimed) may hand a unit to the other thread; it then reads the
// lines from this core's cache, still not from DRAM.
func (s *state) prefetchRange(chunk, _, _ int) {
	c := s.cfg
	units, threads := s.n*c.Heads, s.pool.Threads()
	group := c.Heads / c.KVHeads
	budget := prefetchBytes / 4
	for u, hi := units*chunk/threads, units*(chunk+1)/threads; u < hi && budget > 0; {
		i, g := u/c.Heads, u%c.Heads/group
		u = min(hi, i*c.Heads+(g+1)*group)     // the units of the same token and KV head read the same runs
		n := min(s.pos[i]*c.HeadDim, budget/2) // the token's own key and value are stored after the projection
		if n == 0 {
			continue
		}
		k, v, lay := s.cache.view(s.attnLayer, s.seq[i])
		kernels.PrefetchL2(k[g*lay.HeadStride:][:n])
		kernels.PrefetchL2(v[g*lay.HeadStride:][:n])
		budget -= 2 * n
	}
}

// ropeRange rotates the queries and keys of tokens [lo, hi) of the batch
// and stores their keys and values in the cache (layer s.attnLayer); the
// rope table must already cover their positions. Tokens write disjoint
// cache positions, so the batch's tokens are spread over the pool.
func (s *state) ropeRange(lo, hi int) {
	c := s.cfg
	qd, kd := c.QDim(), c.KVDim()
	for i := lo; i < hi; i++ {
		q := s.q[i*qd : (i+1)*qd]
		k := s.k[i*kd : (i+1)*kd]
		sin, cos := s.ropeAngles(s.pos[i])
		kernels.RoPERotate(q, c.Heads, c.HeadDim, c.RopeDim, sin, cos, c.RopeNeox)
		kernels.RoPERotate(k, c.KVHeads, c.HeadDim, c.RopeDim, sin, cos, c.RopeNeox)
		s.cache.put(s.attnLayer, s.seq[i], s.pos[i], k, s.v[i*kd:(i+1)*kd])
	}
}

// ropeAngles returns the rotary sines and cosines of position pos, from a
// table grown (doubling) as positions are first seen: the float64 pow and
// sincos of every pair cost more than the rotation itself.
func (s *state) ropeAngles(pos int) (sin, cos []float32) {
	rd := s.cfg.RopeDim
	if rd == 0 {
		return nil, nil
	}
	if have := len(s.rope) / rd; pos >= have {
		n := max(pos+1, 2*have, 64)
		t := make([]float32, n*rd)
		copy(t, s.rope)
		for p := have; p < n; p++ {
			kernels.RoPEAngles(t[p*rd:p*rd+rd/2], t[p*rd+rd/2:(p+1)*rd], rd, p, s.cfg.RopeBase)
		}
		s.rope = t
	}
	row := s.rope[pos*rd : (pos+1)*rd]
	return row[:rd/2], row[rd/2:]
}

// gateRange applies s.act to the feed-forward rows of tokens [lo, hi).
func (s *state) gateRange(lo, hi int) {
	ff := s.cfg.FFN
	s.act(s.gate[lo*ff:hi*ff], s.gate[lo*ff:hi*ff], s.up[lo*ff:hi*ff])
}

// addRange adds the projection output of tokens [lo, hi) to the residual.
func (s *state) addRange(lo, hi int) {
	d := s.cfg.Embedding
	kernels.Add(s.x[lo*d:hi*d], s.o[lo*d:hi*d])
}

// attendClaimed runs attention units on thread chunk, claiming a few at a
// time until none is left: a batch mixes decoding tokens, whose attention
// reads the whole sequence, with prompt tokens early in theirs, so a
// static split of the units would leave one thread waiting on the other.
func (s *state) attendClaimed(chunk, _, _ int) {
	grain := int64(max(1, (s.cfg.Heads+3)/4))
	for {
		lo := s.attnNext.Add(grain) - grain
		if lo >= int64(s.attnUnits) {
			return
		}
		s.attendRange(chunk, int(lo), min(int(lo+grain), s.attnUnits))
	}
}

// attendRange computes the attention of units [lo, hi) of the batch, unit
// u being query head u%Heads of token u/Heads (so one token's heads are
// split among threads when decoding); each token sees its own sequence up
// to and including its position. chunk selects the thread's scratch.
func (s *state) attendRange(chunk, lo, hi int) {
	c := s.cfg
	qd := c.QDim()
	scratch := s.scores[chunk*s.scoreStride : (chunk+1)*s.scoreStride]
	for u := lo; u < hi; {
		i, h0 := u/c.Heads, u%c.Heads
		h1 := min(c.Heads, h0+hi-u)
		nPos := s.pos[i] + 1
		k, v, lay := s.cache.view(s.attnLayer, s.seq[i])
		kernels.AttentionHeads(s.att[i*qd:(i+1)*qd], s.q[i*qd:(i+1)*qd], k, v, nPos, c.Heads, c.KVHeads, c.HeadDim,
			lay, s.attnScale, scratch, h0, h1)
		u += h1 - h0
	}
}

// feedForward runs the feed-forward half: x += down(sub(act(gate, up))).
func (s *state) feedForward(f *feedForward, act gateFunc, subNorm []float32) {
	c := s.cfg
	d, ff := c.Embedding, c.FFN
	s.normRows(s.h, s.x, f.norm, d)
	s.project(s.h, s.n, d, f.gateUp, s.bind(s.gate, s.up))
	s.act = act
	s.pool.Run(s.n, s.gateFn)
	s.act = nil
	if subNorm != nil {
		s.normRows(s.gate, s.gate, subNorm, ff)
	}
	s.project(s.gate, s.n, ff, f.downG, s.bind(s.o))
	s.pool.Run(s.n, s.addFn)
}
