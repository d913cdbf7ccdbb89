package kernels

// Entry points of the portable Go fast path. Each must compute its
// reference's result bit for bit.

func quantizeActsPortable(q []int8, x []float32) float32 { return quantizeActsGeneric(q, x) }

func i2sRowsPortable(out []float32, w *I2S, a *QActs, tok *i2sTokens, m0, m1 int) {
	i2sRowsGeneric(out, w, a, tok, m0, m1)
}

func denseRowsPortable(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	denseRowsGeneric(out, w, x, a, n, m0, m1)
}

func dotRowsPortable(out, rows []float32, stride int, x []float32, n int) {
	dotRowsGeneric(out, rows, stride, x, n)
}

func weightedSumPortable(o, v []float32, stride int, w []float32) {
	weightedSumGeneric(o, v, stride, w)
}
