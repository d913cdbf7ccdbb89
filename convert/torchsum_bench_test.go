package convert

import "testing"

func BenchmarkAbsmeanTorch(b *testing.B) {
	n := 6912 * 2560
	w := make([]float32, n)
	(&rng{s: 1}).normals(w, 0.02)
	codes := make([]int8, n)
	b.SetBytes(int64(n) * 4)
	for b.Loop() {
		absmeanTorch(codes, w)
	}
}

func BenchmarkTorchAbsSum(b *testing.B) {
	n := 6912 * 2560
	w := make([]float32, n)
	(&rng{s: 1}).normals(w, 0.02)
	b.SetBytes(int64(n) * 4)
	for b.Loop() {
		torchAbsSum(w)
	}
}
