package kernels

// Attention computes one token's attention over its sequence's float32 KV
// cache. q is [nHeads*headDim]; kCache and vCache are [nPos][nKV*headDim]
// row-major; out is [nHeads*headDim]; scratch needs nPos elements. Query
// head h reads KV head h/(nHeads/nKV) (grouped-query attention); scores are
// dot(q, k)*scale, softmaxed, and weight the values. Sums are float32 in
// position order.
func Attention(out, q, kCache, vCache []float32, nPos, nHeads, nKV, headDim int, scale float32, scratch []float32) {
	group := nHeads / nKV
	stride := nKV * headDim
	sc := scratch[:nPos]
	for h := 0; h < nHeads; h++ {
		qh := q[h*headDim : (h+1)*headDim]
		off := (h / group) * headDim
		for p := 0; p < nPos; p++ {
			k := kCache[p*stride+off:][:headDim]
			var s float32
			for d, v := range qh {
				s += float32(v * k[d])
			}
			sc[p] = s * scale
		}
		Softmax(sc)
		o := out[h*headDim : (h+1)*headDim]
		clear(o)
		for p, wgt := range sc {
			v := vCache[p*stride+off:][:headDim]
			for d := range o {
				o[d] += float32(wgt * v[d])
			}
		}
	}
}
