package runtime

import (
	"os"
	"testing"
)

// benchModel loads $BITNET_BENCH_MODEL (e.g. a "bitnet dummy --size 2B-4T"
// file) or a tiny synthetic model.
func benchModel(b *testing.B) *Model {
	b.Helper()
	path := os.Getenv("BITNET_BENCH_MODEL")
	if path == "" {
		spec := defaultTiny("bitnet-b1.58")
		spec.ctx = 1024
		path, _ = spec.write(b, b.TempDir())
	}
	m, err := Load(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

// BenchmarkDecode measures one-token forward passes after a short prompt
// (tokens/s = 1e9 / ns/op).
func BenchmarkDecode(b *testing.B) {
	m := benchModel(b)
	seq, _ := m.NewSession(1).NewSequence()
	if err := seq.Prompt([]int32{1, 2, 3, 4, 5, 6, 7, 8}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if seq.Room() == 0 {
			if err := seq.Truncate(8); err != nil {
				b.Fatal(err)
			}
		}
		if err := seq.Decode(9); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrompt measures a 64-token prompt in one forward pass.
func BenchmarkPrompt(b *testing.B) {
	m := benchModel(b)
	seq, _ := m.NewSession(1).NewSequence()
	prompt := make([]int32, 64)
	for i := range prompt {
		prompt[i] = int32(i % 50)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := seq.Truncate(0); err != nil {
			b.Fatal(err)
		}
		if err := seq.Prompt(prompt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}
