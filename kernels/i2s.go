package kernels

import (
	"errors"
	"fmt"
	"slices"
)

// I2S is a ternary weight matrix in bitnet.cpp's I2_S layout (FORMATS.md §3),
// used in place (straight from the GGUF mmap): one flat array of M*K 2-bit
// codes c = t+1, 128 codes per 32-byte block, so a row starts inside a block
// when K is not a multiple of 128.
type I2S struct {
	M, K  int     // rows (outputs), cols (inputs); GGUF shape [K, M]
	Data  []byte  // M*K/4 bytes of codes (the tensor bytes without the 32-byte tail)
	Scale float32 // per-tensor weight scale from the tail
}

// Validate checks the shape (M*K a multiple of 128: the layout has no
// partial blocks) and that no code is 3. The reference maps code
// 3 to t = 0 as bitnet.cpp's decoders do, but the vector kernels assume valid
// codes (a file never holds 3), so loaders should call Validate once.
func (w *I2S) Validate() error {
	if w.M <= 0 || w.K <= 0 || (w.M*w.K)%i2sBlock != 0 {
		return fmt.Errorf("kernels: I2_S shape %dx%d: element count must be a positive multiple of %d", w.M, w.K, i2sBlock)
	}
	if len(w.Data) < w.M*w.K/4 {
		return fmt.Errorf("kernels: I2_S %dx%d: %d bytes of codes, want %d", w.M, w.K, len(w.Data), w.M*w.K/4)
	}
	for i, b := range w.Data[:w.M*w.K/4] {
		// A code is 3 when both of its bits are set.
		if b&(b>>1)&0x55 != 0 {
			return fmt.Errorf("kernels: I2_S byte %d (%#02x) holds the invalid code 3", i, b)
		}
	}
	return nil
}

var errShape = errors.New("kernels: shape mismatch")

// checkI2S panics with a descriptive message when the operands disagree;
// a mismatch is a programming error in the caller.
func checkI2S(out []float32, w *I2S, a *QActs) {
	if w.K != a.K || len(w.Data) < w.M*w.K/4 || len(a.Q) < a.N*a.K || len(a.Scale) < a.N || len(out) < a.N*w.M {
		panic(fmt.Sprintf("%v: I2S %dx%d (%d bytes), acts %dx%d, out %d", errShape, w.M, w.K, len(w.Data), a.N, a.K, len(out)))
	}
}

// MatMulI2S computes out[n*M+m] = float32(Σ_k t[m,k]·q[n,k]) / a.Scale[n] * w.Scale
// for every token n < a.N and row m < w.M: the exact integer sum, then the
// two float operations of FORMATS.md §4. out is row-major [a.N][w.M].
func MatMulI2S(p *Pool, out []float32, w *I2S, a *QActs) {
	checkI2S(out, w, a)
	j := p.i2sJob()
	j.set(a)
	j.add(out, w)
	j.dispatch(p)
}

// MatMulI2SMulti is MatMulI2S for several matrices sharing the same input
// (fused QKV, gate+up) in one dispatch: outs[i] receives ws[i]·a.
func MatMulI2SMulti(p *Pool, outs [][]float32, ws []*I2S, a *QActs) {
	if len(outs) != len(ws) {
		panic(fmt.Sprintf("%v: %d outputs for %d matrices", errShape, len(outs), len(ws)))
	}
	j := p.i2sJob()
	j.set(a)
	for i, w := range ws {
		checkI2S(outs[i], w, a)
		j.add(outs[i], w)
	}
	j.dispatch(p)
}

// i2sRowGroup is the number of rows a worker's share is rounded to, so that
// the vector kernels always see whole groups of rows.
const i2sRowGroup = 4

// groups is how the matmuls split w among threads: units of i2sRowGroup
// rows (the last may be short) of unitBytes bytes of codes each.
func (w *I2S) groups() (units, unitBytes int) {
	return (w.M + i2sRowGroup - 1) / i2sRowGroup, i2sRowGroup * w.K / 4
}

// i2sPart is one matrix of a (possibly fused) matmul.
type i2sPart struct {
	out   []float32
	w     *I2S
	units int // row groups
}

// i2sTask is the parallel job of MatMulI2S(Multi); the Pool owns one so a
// dispatch allocates nothing once the buffers have grown.
type i2sTask struct {
	a     *QActs
	tok   i2sTokens
	parts []i2sPart
	units int
	codes [][]byte // per chunk: a group of rows unpacked, for batches (see i2sRows)
}

// i2sUnpackMinTokens is the batch from which the vector path unpacks each
// group of rows once for all tokens rather than once per 4 tokens: on the
// 125M dummy's layers 8 tokens measured 3 % slower unpacked, 12 tokens 7 %
// faster.
const i2sUnpackMinTokens = 12

// i2sTokens holds what the store of each token needs, padded to a whole
// number of 4-token tiles so the assembly may always read four entries.
type i2sTokens struct {
	qsum  []int32   // Σ_k q[n,k]; zero past the tokens
	scale []float32 // the token's activation scale; one past the tokens
	// pairs holds the whole 8-token tiles of the activations interleaved
	// for SMMLA (see interleavePairs), on the i8mm path only; else empty.
	pairs []int8
}

func (p *Pool) i2sJob() *i2sTask {
	if p == nil {
		return new(i2sTask)
	}
	return &p.scr.i2s
}

func (j *i2sTask) set(a *QActs) {
	j.a = a
	j.parts = j.parts[:0]
	j.units = 0
	n4 := (a.N + 3) &^ 3
	j.tok.qsum = growSlice(j.tok.qsum, n4)
	j.tok.scale = growSlice(j.tok.scale, n4)
	for n := range n4 {
		if n < a.N {
			j.tok.qsum[n] = sumInt8(a.Q[n*a.K : (n+1)*a.K])
			j.tok.scale[n] = a.Scale[n]
		} else {
			j.tok.qsum[n], j.tok.scale[n] = 0, 1
		}
	}
	j.tok.pairs = j.tok.pairs[:0]
	if useI8MM && a.N >= i2sPairTile && a.K%i2sBlock == 0 {
		j.tok.pairs = interleavePairs(j.tok.pairs, a)
	}
}

// i2sPairTile is the token tile of the SMMLA kernel.
const i2sPairTile = 8

// interleavePairs lays out the whole 8-token tiles of a as SMMLA takes its
// right operand, once per matmul: tokens 2j and 2j+1 alternate in runs of
// 8 values, so that 16 consecutive bytes hold both tokens' values at the
// same 8 positions. pairs[j·2K + 16c + 8s + i] = q[2j+s][8c+i] (K a
// multiple of 8).
func interleavePairs(dst []int8, a *QActs) []int8 {
	K, n := a.K, a.N&^(i2sPairTile-1)
	dst = growSlice(dst, n*K)
	for j := 0; j < n/2; j++ {
		q0, q1 := a.Q[2*j*K:][:K], a.Q[(2*j+1)*K:][:K]
		d := dst[2*j*K:][:2*K]
		for c := 0; c < K/8; c++ {
			copy(d[16*c:16*c+8], q0[8*c:8*c+8])
			copy(d[16*c+8:16*c+16], q1[8*c:8*c+8])
		}
	}
	return dst
}

func (j *i2sTask) add(out []float32, w *I2S) {
	u, _ := w.groups()
	j.parts = append(j.parts, i2sPart{out: out, w: w, units: u})
	j.units += u
}

func (j *i2sTask) dispatch(p *Pool) {
	if j.a.N >= i2sUnpackMinTokens {
		j.codes = slices.Grow(j.codes[:0], p.Threads())[:p.Threads()]
		for i := range j.codes {
			if len(j.codes[i]) < 4*j.a.K {
				j.codes[i] = make([]byte, 4*j.a.K)
			}
		}
	}
	p.runTask(j.units, stealGrain(i2sRowGroup*j.a.K/4, j.a.N), j)
	for i := range j.parts {
		j.parts[i] = i2sPart{}
	}
	j.a = nil
}

// run computes the row groups [lo, hi) of the concatenated matrices.
func (j *i2sTask) run(chunk, lo, hi int) {
	var codes []byte
	if chunk < len(j.codes) {
		codes = j.codes[chunk]
	}
	base := 0
	for i := range j.parts {
		pt := &j.parts[i]
		plo, phi := max(lo-base, 0), min(hi-base, pt.units)
		if plo < phi {
			m0, m1 := plo*i2sRowGroup, min(phi*i2sRowGroup, pt.w.M)
			i2sRows(pt.out, pt.w, j.a, &j.tok, codes, m0, m1)
		}
		base += pt.units
	}
}

// i2sStore scales the exact integer sum Σ c·q − Σ q of token n, row m.
func i2sStore(out []float32, w *I2S, tok *i2sTokens, n, m int, cq int32) {
	out[n*w.M+m] = float32(cq-tok.qsum[n]) / tok.scale[n] * w.Scale
}

// sumInt8Generic is the reference of sumInt8: Σq, exactly.
func sumInt8Generic(q []int8) int32 {
	var s int32
	for _, v := range q {
		s += int32(v)
	}
	return s
}
