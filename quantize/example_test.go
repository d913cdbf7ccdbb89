package quantize_test

import (
	"fmt"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// The converter's path for one projection: absmean to ternary codes, then
// I2_S into a buffer sized by gguf.
func Example() {
	const m, k = 2, 128
	w := make([]float32, m*k)
	for i := range w {
		w[i] = float32(i%5-2) * 0.01 // −0.02 … 0.02
	}
	codes, scale, err := quantize.Absmean(w)
	if err != nil {
		panic(err)
	}
	size, err := gguf.TensorBytes(gguf.I2_S, []uint64{k, m})
	if err != nil {
		panic(err)
	}
	buf := make([]byte, size)
	if err := quantize.PackI2S(buf, codes, m, k, scale); err != nil {
		panic(err)
	}
	fmt.Println(codes[:5], scale, len(buf))
	// Output: [-1 -1 0 1 1] 0.01203125 96
}

// TL2 needs tiling parameters: bitnet.cpp's for the shapes it knows, the
// documented derived rule otherwise. The converter records them in metadata.
func ExampleTL2Params() {
	for _, s := range [][2]int{{3200, 8640}, {6912, 2560}, {640, 2560}} {
		p, err := quantize.TL2Params(s[0], s[1])
		if err != nil {
			panic(err)
		}
		threeK, twoK := quantize.TL2Split(s[1], p.BK)
		fmt.Printf("[%d,%d] %v threeK=%d twoK=%d\n", s[0], s[1], p, threeK, twoK)
	}
	// Output:
	// [3200,8640] BM=160 BK=96 bm=32 threeK=8640 twoK=0
	// [6912,2560] BM=256 BK=96 bm=32 threeK=2496 twoK=64
	// [640,2560] BM=128 BK=96 bm=32 threeK=2496 twoK=64
}

// Packed Hugging Face checkpoints: unpack the uint8 [out/4, in] weight and
// turn weight_scale into the stored multiplicative scale.
func ExampleUnpackHF() {
	packed := []byte{0b10_01_00_10} // out = 4, in = 1: rows 0..3 = +1, −1, 0, +1
	codes := make([]int8, 4)
	if err := quantize.UnpackHF(codes, packed, 4, 1); err != nil {
		panic(err)
	}
	class, _ := quantize.ParseLinearClass("bitlinear") // W = T / weight_scale
	scale, _ := class.Scale(62.75)
	fmt.Println(codes, scale)
	// Output: [1 -1 0 1] 0.015936255
}
