//go:build purego || !(amd64 || arm64)

package kernels

// Without assembly every kernel is its portable Go fast path or its
// reference (see the fallbacks); the vector hooks do nothing.

// archPaths offers no assembly tier.
func archPaths() []kernelPath { return nil }

func quantizeActs(q []int8, x []float32) float32 { return quantizeActsFallback(q, x) }

func absMax(x []float32) float32 { return absMaxGeneric(x) }

func i2sRows(out []float32, w *I2S, a *QActs, tok *i2sTokens, _ []byte, m0, m1 int) {
	i2sRowsFallback(out, w, a, tok, m0, m1)
}

func denseRows(out []float32, w *Dense, x []float32, a *blockActs, n, m0, m1 int) {
	denseRowsFallback(out, w, x, a, n, m0, m1)
}

// q6KPortableRows: without assembly every Q6_K row that is not the
// reference's is the portable kernel's.
func q6KPortableRows(*Dense) bool { return usePortable }

func dotRowsF32(out, rows []float32, stride int, x []float32, n int) {
	dotRowsFallback(out, rows, stride, x, n)
}

func siluMulVector(dst, gate, up []float32) int { return 0 }

func weightedSum(o, v []float32, stride int, w []float32) { weightedSumFallback(o, v, stride, w) }

func expSubVector(x []float32, m float32) int { return 0 }

func scoresVector(_, _ []float32, _ int, _ []float32, _ float32) bool { return false }

func sumInt8(q []int8) int32 { return sumInt8Generic(q) }

func relu2MulVector(dst, gate, up []float32) int { return 0 }

func addVector(dst, x []float32) int { return 0 }

func scaleMulVector(dst, x, w []float32, s float32) int { return 0 }

func sumSquaresVector(x []float32) (float64, int) { return 0, 0 }

func ropeVector(v, sin, cos []float32, neox bool) int { return 0 }

func prefetchAvailable() bool { return false }

func prefetchBytes([]byte) {}
