package grammar

import (
	"math/rand/v2"
	"testing"
)

// bigVocab imitates a 128k BPE vocabulary: every byte, then pieces of 2–12
// characters, mostly letters with a leading space, some punctuation and
// digits, a few JSON-looking pieces.
func bigVocab(n int) ([][]byte, []int32) {
	rng := rand.New(rand.NewPCG(9, 9))
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;\"'{}[]-_\n"
	pieces := make([][]byte, 0, n)
	for b := range 256 {
		pieces = append(pieces, []byte{byte(b)})
	}
	for len(pieces) < n-1 {
		l := 2 + rng.IntN(11)
		p := make([]byte, l)
		for i := range p {
			if rng.IntN(4) == 0 {
				p[i] = alpha[rng.IntN(len(alpha))]
			} else {
				p[i] = byte('a' + rng.IntN(26))
			}
		}
		if rng.IntN(2) == 0 {
			p[0] = ' '
		}
		pieces = append(pieces, p)
	}
	eos := int32(len(pieces))
	return append(pieces, nil), []int32{eos}
}

// BenchmarkAllowed128k measures one token mask over a 128k vocabulary in
// the states a structured reply spends its tokens in.
func BenchmarkAllowed128k(b *testing.B) {
	pieces, eog := bigVocab(128256)
	v := NewVocab(pieces, eog)
	s := mustCompile(b, testSchemas["person"], true)
	for _, tc := range []struct{ name, prefix string }{
		{"start", ``},
		{"key", `{"name":"Ann",`},
		{"string", `{"name":"A`},
		{"email", `{"name":"A","email":"bob`},
		{"number", `{"name":"A","age":1`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := s.NewMatcher()
			if !m.Advance([]byte(tc.prefix)) {
				b.Fatalf("prefix %q rejected", tc.prefix)
			}
			var dst []int32
			for b.Loop() {
				dst = m.Allowed(v, 1000, dst[:0])
			}
			b.ReportMetric(float64(len(dst)), "allowed")
		})
	}
}

// BenchmarkNewVocab128k measures the one-time layout of a 128k vocabulary
// (on a server's first constrained request).
func BenchmarkNewVocab128k(b *testing.B) {
	pieces, eog := bigVocab(128256)
	for b.Loop() {
		NewVocab(pieces, eog)
	}
}
