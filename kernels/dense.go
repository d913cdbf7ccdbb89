package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is the element type of a Dense matrix.
type DType int

// Dense element types, in ggml's layouts.
const (
	DF32  DType = iota // little-endian float32
	DF16               // IEEE half
	DBF16              // bfloat16
	DQ8_0              // blocks of 32: f16 scale d, 32 int8; w = d*q
	DQ6_K              // blocks of 256: ql[128], qh[64], int8 scales[16], f16 d; w = d*scale*q
)

// String names the type as ggml does.
func (t DType) String() string {
	switch t {
	case DF32:
		return "F32"
	case DF16:
		return "F16"
	case DBF16:
		return "BF16"
	case DQ8_0:
		return "Q8_0"
	case DQ6_K:
		return "Q6_K"
	}
	return fmt.Sprintf("DType(%d)", int(t))
}

// Block sizes of the quantized types.
const (
	q80Block  = 32
	q80Bytes  = 34
	q6KBlock  = 256
	q6KBytes  = 210
	denseLane = 32 // lanes of the dense dot product (see dotReduce)
)

// Dense is a matrix of M rows of K elements in ggml layout, row-major, used
// for embeddings and the output head.
type Dense struct {
	Type DType
	M, K int
	Data []byte
}

// RowBytes is the size in bytes of one row of K elements of type t, or an
// error when K does not fit the type's block size.
func RowBytes(t DType, k int) (int, error) {
	switch t {
	case DF32:
		return 4 * k, nil
	case DF16, DBF16:
		return 2 * k, nil
	case DQ8_0:
		if k%q80Block == 0 {
			return k / q80Block * q80Bytes, nil
		}
	case DQ6_K:
		if k%q6KBlock == 0 {
			return k / q6KBlock * q6KBytes, nil
		}
	default:
		return 0, fmt.Errorf("kernels: unknown dense type %d", int(t))
	}
	return 0, fmt.Errorf("kernels: %v row of %d elements is not a whole number of blocks", t, k)
}

// Validate checks the type, the block alignment of K and the data length.
func (d *Dense) Validate() error {
	rb, err := RowBytes(d.Type, d.K)
	if err != nil {
		return err
	}
	if d.M <= 0 || d.K <= 0 || len(d.Data) < d.M*rb {
		return fmt.Errorf("kernels: %v %dx%d: %d bytes, want %d", d.Type, d.M, d.K, len(d.Data), d.M*rb)
	}
	return nil
}

func (d *Dense) rowBytes() int {
	rb, err := RowBytes(d.Type, d.K)
	if err != nil {
		panic(err)
	}
	return rb
}

// Row dequantizes row i into dst[:K] (embedding lookup); every type
// dequantizes exactly as ggml does.
func (d *Dense) Row(dst []float32, i int) {
	rb := d.rowBytes()
	row := d.Data[i*rb : (i+1)*rb]
	dst = dst[:d.K]
	switch d.Type {
	case DF32:
		for k := range dst {
			dst[k] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*k:]))
		}
	case DF16:
		for k := range dst {
			dst[k] = f16ToF32(binary.LittleEndian.Uint16(row[2*k:]))
		}
	case DBF16:
		for k := range dst {
			dst[k] = bf16ToF32(binary.LittleEndian.Uint16(row[2*k:]))
		}
	default:
		var g [denseLane]float32
		for c := 0; c < d.K/denseLane; c++ {
			denseGroup(&g, d.Type, row, d.K, c)
			copy(dst[c*denseLane:], g[:])
		}
	}
}

// MatMulDense computes out[t*M+m] = dot(row m, x[t*K:(t+1)*K]) for n tokens.
// For F32, F16, BF16 and Q8_0 the dot product is the one of dotReduce: 32
// interleaved float32 lanes, the weight dequantized exactly as in Row, each
// product fused into its lane's sum (fma32, one rounding, as VFMADD does). Q6_K multiplies integers, as ggml
// does: each token is quantized to int8 in blocks of 256 (ggml's Q8_K role)
// and each super-block's exact integer dot product is scaled in float32 (see
// q6KDotGeneric); this is what makes a Q6_K head cheaper than an F16 one.
func MatMulDense(p *Pool, out []float32, w *Dense, x []float32, n int) {
	if err := w.Validate(); err != nil {
		panic(err)
	}
	if len(x) < n*w.K || len(out) < n*w.M {
		panic(fmt.Sprintf("%v: dense %dx%d, %d tokens, x %d, out %d", errShape, w.M, w.K, n, len(x), len(out)))
	}
	if n <= 0 {
		return
	}
	j := p.denseJob()
	acts := j.acts
	if w.Type == DQ6_K {
		acts.quantize(x, n, w.K)
		if q6KPortableRows(w) {
			// Once per call, not per claim of rows: a claim may be as
			// small as 4 rows (stealGrain), and the layout reads every
			// activation. The pass costs about what quantize does, so
			// it is skipped when the assembly takes every row.
			acts.u = growSlice(acts.u, n*w.K/q6KBlock*q6KStride)
			q6KLayout(acts.u, acts.q)
		}
	}
	*j = denseTask{out: out, w: w, x: x, n: n, acts: acts}
	units, unitBytes := w.groups()
	p.runTask(units, stealGrain(unitBytes, n), j)
	*j = denseTask{acts: acts}
}

// denseRowGroup rounds the workers' shares so vector kernels see whole
// groups of rows.
const denseRowGroup = 4

// groups is how MatMulDense splits d among threads: units of denseRowGroup
// rows (the last may be short) of unitBytes bytes each.
func (d *Dense) groups() (units, unitBytes int) {
	return (d.M + denseRowGroup - 1) / denseRowGroup, denseRowGroup * d.rowBytes()
}

type denseTask struct {
	out  []float32
	w    *Dense
	x    []float32
	n    int
	acts *blockActs // the quantized tokens, for Q6_K; kept between calls
}

func (p *Pool) denseJob() *denseTask {
	if p == nil {
		return &denseTask{acts: new(blockActs)}
	}
	if p.scr.dense.acts == nil {
		p.scr.dense.acts = new(blockActs)
	}
	return &p.scr.dense
}

func (j *denseTask) run(_, lo, hi int) {
	denseRows(j.out, j.w, j.x, j.acts, j.n, lo*denseRowGroup, min(hi*denseRowGroup, j.w.M))
}

// scratch is the per-Pool state of the package's kernels.
type scratch struct {
	i2s      i2sTask
	dense    denseTask
	upcoming upcomingTask
}
