package kernels

// blockActs are tokens quantized to int8 in blocks of 256 for the Q6_K
// integer dot product, the role ggml's Q8_K plays: each block has its own
// scale (as QuantizeActs computes it for those 256 values), so a large
// activation in one block costs no precision in the others.
type blockActs struct {
	n, k int
	q    []int8    // n*k
	d    []float32 // n*k/256: block b of a token holds x ≈ q*d[b]
	bsum []int16   // n*k/16: sums of 16 consecutive q, for the -32 offset of Q6_K codes
	u    []uint64  // n*k/256*q6KStride: q laid out for the portable Q6_K kernel (q6KLayout), when that path is on
}

const actBlock = 256

// quantize sets a to the n tokens of k values (k a multiple of 256) of x.
func (a *blockActs) quantize(x []float32, n, k int) {
	nb := n * k / actBlock
	a.n, a.k = n, k
	a.q = growSlice(a.q, n*k)
	a.d = growSlice(a.d, nb)
	a.bsum = growSlice(a.bsum, n*k/16)
	for b := 0; b < nb; b++ {
		q := a.q[b*actBlock : (b+1)*actBlock]
		a.d[b] = 1 / quantizeActs(q, x[b*actBlock:(b+1)*actBlock])
		for s := 0; s < actBlock/16; s++ {
			var sum int16
			for _, v := range q[16*s : 16*s+16] {
				sum += int16(v)
			}
			a.bsum[b*actBlock/16+s] = sum
		}
	}
}

// growSlice returns s with length n, reallocating only when it is too short.
func growSlice[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
