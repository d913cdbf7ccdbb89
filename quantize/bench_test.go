package quantize

import (
	"sync"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// The benchmark tensor is 2B-4T's ffn_gate/ffn_up: M = 6912 rows, K = 2560.
const benchM, benchK = 6912, 2560

var benchData = sync.OnceValues(func() ([]int8, []float32) {
	r := newRand(7)
	codes := randomCodes(r, benchM*benchK)
	w := make([]float32, benchM*benchK)
	for i := range w {
		w[i] = 0.02 * float32(r.NormFloat64())
	}
	return codes, w
})

func benchBytes(b *testing.B, typ gguf.Type) []byte {
	n, err := gguf.TensorBytes(typ, []uint64{benchK, benchM})
	if err != nil {
		b.Fatal(err)
	}
	return make([]byte, n)
}

// benchPack reports throughput in weights per second (b.SetBytes counts
// one "byte" per weight, so MB/s reads as millions of weights per second).
func benchPack(b *testing.B, typ gguf.Type, pack func(dst []byte, codes []int8, w []float32) error) {
	codes, w := benchData()
	dst := benchBytes(b, typ)
	b.SetBytes(benchM * benchK)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := pack(dst, codes, w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPackI2S(b *testing.B) {
	benchPack(b, gguf.I2_S, func(dst []byte, codes []int8, _ []float32) error {
		return PackI2S(dst, codes, benchM, benchK, 1)
	})
}

func BenchmarkPackTL1(b *testing.B) {
	p, err := TL1Params(benchM, benchK)
	if err != nil {
		b.Fatal(err)
	}
	benchPack(b, gguf.TL1, func(dst []byte, codes []int8, _ []float32) error {
		return PackTL1(dst, codes, benchM, benchK, p, 1)
	})
}

func BenchmarkPackTL2(b *testing.B) {
	p, err := TL2Params(benchM, benchK)
	if err != nil {
		b.Fatal(err)
	}
	benchPack(b, gguf.TL2, func(dst []byte, codes []int8, _ []float32) error {
		return PackTL2(dst, codes, benchM, benchK, p, 1)
	})
}

func BenchmarkPackF16(b *testing.B) {
	benchPack(b, gguf.F16, func(dst []byte, _ []int8, w []float32) error { return F32ToF16(dst, w) })
}

func BenchmarkPackBF16(b *testing.B) {
	benchPack(b, gguf.BF16, func(dst []byte, _ []int8, w []float32) error { return F32ToBF16(dst, w) })
}

func BenchmarkPackQ8_0(b *testing.B) {
	benchPack(b, gguf.Q8_0, func(dst []byte, _ []int8, w []float32) error { return QuantizeQ8_0(dst, w) })
}

func BenchmarkPackQ6K(b *testing.B) {
	benchPack(b, gguf.Q6_K, func(dst []byte, _ []int8, w []float32) error { return QuantizeQ6K(dst, w) })
}

func BenchmarkAbsmean(b *testing.B) {
	_, w := benchData()
	codes := make([]int8, len(w))
	b.SetBytes(benchM * benchK)
	for b.Loop() {
		if _, err := AbsmeanInto(codes, w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnpackHF(b *testing.B) {
	codes, _ := benchData()
	packed := make([]byte, len(codes)/4)
	if err := PackHF(packed, codes, benchM, benchK); err != nil {
		b.Fatal(err)
	}
	out := make([]int8, len(codes))
	b.SetBytes(benchM * benchK)
	for b.Loop() {
		if err := UnpackHF(out, packed, benchM, benchK); err != nil {
			b.Fatal(err)
		}
	}
}

// benchUnpack measures decoding a packed tensor back to codes.
func benchUnpack(b *testing.B, typ gguf.Type, pack func([]byte, []int8) error, unpack func([]int8, []byte) error) {
	codes, _ := benchData()
	src := benchBytes(b, typ)
	if err := pack(src, codes); err != nil {
		b.Fatal(err)
	}
	out := make([]int8, len(codes))
	b.SetBytes(benchM * benchK)
	b.ResetTimer()
	for b.Loop() {
		if err := unpack(out, src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnpackI2S(b *testing.B) {
	benchUnpack(b, gguf.I2_S,
		func(d []byte, c []int8) error { return PackI2S(d, c, benchM, benchK, 1) },
		func(c []int8, s []byte) error { _, err := UnpackI2S(c, s, benchM, benchK); return err })
}

func BenchmarkUnpackTL1(b *testing.B) {
	p, _ := TL1Params(benchM, benchK)
	benchUnpack(b, gguf.TL1,
		func(d []byte, c []int8) error { return PackTL1(d, c, benchM, benchK, p, 1) },
		func(c []int8, s []byte) error { _, err := UnpackTL1(c, s, benchM, benchK, p); return err })
}

func BenchmarkUnpackTL2(b *testing.B) {
	p, _ := TL2Params(benchM, benchK)
	benchUnpack(b, gguf.TL2,
		func(d []byte, c []int8) error { return PackTL2(d, c, benchM, benchK, p, 1) },
		func(c []int8, s []byte) error { _, err := UnpackTL2(c, s, benchM, benchK, p); return err })
}
