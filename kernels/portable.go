package kernels

// The fallbacks are what a dispatch function runs where no assembly
// applies: the portable Go fast path when usePortable is set, otherwise the
// reference.

func quantizeActsFallback(q []int8, x []float32) float32 {
	if usePortable {
		return quantizeActsPortable(q, x)
	}
	return quantizeActsGeneric(q, x)
}

func i2sRowsFallback(out []float32, w *I2S, a *QActs, tok *i2sTokens, m0, m1 int) {
	if usePortable {
		i2sRowsPortable(out, w, a, tok, m0, m1)
		return
	}
	i2sRowsGeneric(out, w, a, tok, m0, m1)
}

func denseRowsFallback(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	if usePortable {
		denseRowsPortable(out, w, x, a, n, m0, m1)
		return
	}
	denseRowsGeneric(out, w, x, a, n, m0, m1)
}

func dotRowsFallback(out, rows []float32, stride int, x []float32, n int) {
	if usePortable {
		dotRowsPortable(out, rows, stride, x, n)
		return
	}
	dotRowsGeneric(out, rows, stride, x, n)
}

func weightedSumFallback(o, v []float32, stride int, w []float32) {
	if usePortable {
		weightedSumPortable(o, v, stride, w)
		return
	}
	weightedSumGeneric(o, v, stride, w)
}
