package kernels

// Attention computes one token's attention over its sequence's float32 KV
// cache. q is [nHeads*headDim]; kCache and vCache are [nPos][nKV*headDim]
// row-major; out is [nHeads*headDim]; scratch needs nPos elements. Query
// head h reads KV head h/(nHeads/nKV) (grouped-query attention). A score is
// dot(q, k)*scale with the dot product of MatMulDense for F32 rows (32
// interleaved lanes and dotReduce); scores are softmaxed (attnSoftmax) and
// weight the values, each output element a float32 sum in position order
// with fused multiply-adds.
func Attention(out, q, kCache, vCache []float32, nPos, nHeads, nKV, headDim int, scale float32, scratch []float32) {
	lay := KVLayout{HeadStride: headDim, PosStride: nKV * headDim}
	AttentionHeads(out, q, kCache, vCache, nPos, nHeads, nKV, headDim, lay, scale, scratch, 0, nHeads)
}

// KVLayout places element d of KV head h at position p of a key or value
// cache at h*HeadStride + p*PosStride + d. Attention's row-major
// [nPos][nKV*headDim] is {headDim, nKV*headDim}; a head-major cache
// [nKV][capacity][headDim] is {capacity*headDim, headDim}, which lets one
// head's attention read two contiguous runs instead of a short piece of
// every row.
type KVLayout struct{ HeadStride, PosStride int }

// AttentionHeads is Attention for query heads [h0, h1) only, on caches laid
// out as lay says: the rest of out is left alone, so heads can be split
// among threads.
func AttentionHeads(out, q, kCache, vCache []float32, nPos, nHeads, nKV, headDim int, lay KVLayout, scale float32, scratch []float32, h0, h1 int) {
	group := nHeads / nKV
	sc := scratch[:nPos]
	for h := h0; h < h1; h++ {
		qh := q[h*headDim : (h+1)*headDim]
		off := (h / group) * lay.HeadStride
		attnScores(sc, kCache[off:], lay.PosStride, qh, scale)
		attnSoftmax(sc)
		weightedSum(out[h*headDim:(h+1)*headDim], vCache[off:], lay.PosStride, sc)
	}
}

// attnScores sets sc[p] = dot(q, k[p*stride:]) * scale: the dot product of
// dotRowsF32, rounded, then scaled.
func attnScores(sc, k []float32, stride int, q []float32, scale float32) {
	if scoresVector(sc, k, stride, q, scale) {
		return
	}
	dotRowsF32(sc, k, stride, q, len(sc))
	for p := range sc {
		sc[p] *= scale
	}
}

// attnSoftmax is the softmax of the attention scores: e = expf32(x - max x)
// (vector lanes compute the same bits), the sum in float64 in order, then
// every e times float32(1/sum).
func attnSoftmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := softmaxMax(x)
	n := expSubVector(x, m)
	for i := n; i < len(x); i++ {
		x[i] = expf32(x[i] - m)
	}
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// dotRowsGeneric is the reference of dotRowsF32: out[p] is the 32-lane dot
// product (as denseRowsGeneric for F32) of x with rows[p*stride:][:len(x)].
func dotRowsGeneric(out, rows []float32, stride int, x []float32, n int) {
	k := len(x)
	for p := 0; p < n; p++ {
		r := rows[p*stride:][:k]
		var acc [denseLane]float32
		for i := range r {
			acc[i%denseLane] = fma32(r[i], x[i], acc[i%denseLane])
		}
		out[p] = dotReduce(&acc)
	}
}

// weightedSumGeneric is the reference of weightedSum: o[d] is the float32
// sum over positions p, in order, of w[p]*v[p*stride+d], each product fused
// into the sum (fma32).
func weightedSumGeneric(o, v []float32, stride int, w []float32) {
	clear(o)
	for p, wgt := range w {
		vp := v[p*stride:][:len(o)]
		for d := range o {
			o[d] = fma32(wgt, vp[d], o[d])
		}
	}
}
