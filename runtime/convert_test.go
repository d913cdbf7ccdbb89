package runtime

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
)

// TestConvertedGolden converts each golden HF checkpoint with our converter
// to I2_S, TL1, TL2 and F32 and checks that: the I2_S logits agree with
// bitnet.cpp's I2_S logits as closely as bitnet.cpp's own file does; TL1 and
// TL2 give exactly the I2_S logits; F32 agrees with bitnet.cpp's F32 logits.
func TestConvertedGolden(t *testing.T) {
	root := goldenDir(t)
	if testing.Short() {
		t.Skip("converts three checkpoints four ways")
	}
	for _, model := range goldenModels {
		t.Run(model, func(t *testing.T) {
			dir := filepath.Join(root, model)
			hf := filepath.Join(dir, "hf")
			if _, err := os.Stat(hf); err != nil {
				t.Skipf("no checkpoint: %v", err)
			}
			var p goldenPrompt
			readJSON(t, filepath.Join(dir, "prompt.json"), &p)
			tmp := t.TempDir()
			logits := map[string][]float32{}
			for _, typ := range []struct {
				name, embed string
				t           gguf.Type
			}{{"i2_s", "", gguf.I2_S}, {"tl1", "", gguf.TL1}, {"tl2", "", gguf.TL2}, {"f32", "", gguf.F32},
				{"i2_s-q8_0", "q8_0", gguf.I2_S}, {"i2_s-q6_k", "q6_k", gguf.I2_S}} {
				out := filepath.Join(tmp, typ.name+".gguf")
				embed, err := convert.ParseEmbedType(typ.embed)
				if err != nil {
					t.Fatal(err)
				}
				if err := convert.Convert(context.Background(), hf, out, convert.Options{Type: typ.t, EmbedType: embed, Workers: 2}); err != nil {
					t.Fatalf("convert %s: %v", typ.name, err)
				}
				logits[typ.name] = goldenRun(t, out, p.TokensWithBOS, 0)
			}
			ref := readF32(t, filepath.Join(dir, "bitnetcpp-i2_s.logits.f32"))
			checkAgreement(t, model+" converted i2_s vs bitnet.cpp i2_s", compareLogits(ref, logits["i2_s"], p.NVocab), true)
			ref = readF32(t, filepath.Join(dir, "bitnetcpp-f32.logits.f32"))
			checkAgreement(t, model+" converted f32 vs bitnet.cpp f32", compareLogits(ref, logits["f32"], p.NVocab), false)
			own := goldenRun(t, filepath.Join(dir, "bitnetcpp-i2_s.gguf"), p.TokensWithBOS, 0)
			st := compareLogits(own, logits["i2_s"], p.NVocab)
			t.Logf("converted i2_s vs bitnet.cpp's i2_s file, both run here: max|Δ| %g", st.maxDiff)
			// Quantized embeddings (and heads) cost a little accuracy, as in llama.cpp.
			for _, q := range []string{"i2_s-q8_0", "i2_s-q6_k"} {
				st := compareLogits(logits["i2_s"], logits[q], p.NVocab)
				t.Logf("%s vs F16 embeddings: top-1 %d/%d, max|Δ| %.3g = %.2f%% of range", q, st.top1, st.rows, st.maxDiff, 100*st.rel())
				if st.agree() < 0.9 || st.rel() > 0.05 {
					t.Errorf("%s: logits far from the F16-embedding file", q)
				}
			}
			for _, tl := range []string{"tl1", "tl2"} {
				if st := compareLogits(logits["i2_s"], logits[tl], p.NVocab); st.maxDiff != 0 {
					t.Errorf("%s logits differ from i2_s: max|Δ| %g", tl, st.maxDiff)
				}
			}
		})
	}
}
