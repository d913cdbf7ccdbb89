package tokenizer

import (
	"strings"
	"testing"
)

// benchText is about 4 KB of mixed prose, code and numbers.
var benchText = strings.Repeat("The Apache License, Version 2.0 (the \"License\"); you may not use this file except "+
	"in compliance with the License. Naïve café, 2024-01-15: x = a[i] * 3.14159;\n\tfor (int i = 0; i < n; ++i) {}\n", 20)

func BenchmarkEncodeLlama3(b *testing.B) {
	tok := llama3(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		tok.Encode(benchText, true, true)
	}
}

func BenchmarkEncodeSPM(b *testing.B) {
	tok := spm512(b)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		tok.Encode(benchText, true, false)
	}
}

func BenchmarkDecoderLlama3(b *testing.B) {
	tok := llama3(b)
	ids := tok.Encode(benchText, true, false)
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		d := tok.NewDecoder()
		for _, id := range ids {
			d.Next(id)
		}
	}
}

func BenchmarkLoadLlama3(b *testing.B) {
	v := llama3Vocab(b)
	for b.Loop() {
		if _, err := New(v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeOverContext: what refusing a prompt of 256 KB (within
// a 4096-token context's byte bound for the Llama 3 vocabulary) costs
// with and without the token limit.
func BenchmarkEncodeOverContext(b *testing.B) {
	tok := llama3(b)
	text := strings.Repeat(benchText, 64)
	b.Run("Encode", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.Encode(text, true, true)
		}
	})
	b.Run("EncodeLimit4095", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			tok.EncodeLimit(text, true, true, 4095)
		}
	})
}
