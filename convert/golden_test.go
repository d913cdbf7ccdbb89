package convert

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// goldenDir locates ../shared/golden relative to this package.
func goldenDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Skip("cannot locate the test file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden data not found at %s (bitnet.cpp outputs; see shared/golden/README.md)", dir)
	}
	return dir
}

// metaDiff lists how two files' metadata differ, one line per key.
func metaDiff(ours, theirs *gguf.File) []string {
	var diff []string
	tk := map[string]any{}
	for _, kv := range theirs.KV {
		tk[kv.Key] = kv.Value
	}
	seen := map[string]bool{}
	for _, kv := range ours.KV {
		seen[kv.Key] = true
		tv, ok := tk[kv.Key]
		switch {
		case !ok:
			diff = append(diff, "+"+kv.Key)
		case !reflect.DeepEqual(kv.Value, tv):
			diff = append(diff, "~"+kv.Key)
		}
	}
	for _, kv := range theirs.KV {
		if !seen[kv.Key] {
			diff = append(diff, "-"+kv.Key)
		}
	}
	sort.Strings(diff)
	return diff
}

// compareTensors checks names, order, types, shapes and bytes; for the
// ternary layouts the 28 padding bytes at the end are skipped.
func compareTensors(t *testing.T, ours, theirs *gguf.File) {
	t.Helper()
	if len(ours.Tensors) != len(theirs.Tensors) {
		t.Errorf("%d tensors, bitnet.cpp has %d", len(ours.Tensors), len(theirs.Tensors))
	}
	for i := range min(len(ours.Tensors), len(theirs.Tensors)) {
		a, b := &ours.Tensors[i], &theirs.Tensors[i]
		if a.Name != b.Name || a.Type != b.Type || !reflect.DeepEqual(a.Shape, b.Shape) {
			t.Errorf("tensor %d: ours %s %s %v, bitnet.cpp %s %s %v", i, a.Name, a.Type, a.Shape, b.Name, b.Type, b.Shape)
			continue
		}
		da, db := a.Data, b.Data
		if a.Type.IsTernary() {
			da, db = da[:len(da)-28], db[:len(db)-28]
		}
		if !bytes.Equal(da, db) {
			first := 0
			for first < len(da) && da[first] == db[first] {
				first++
			}
			t.Errorf("tensor %s (%s): bytes differ, first at %d of %d", a.Name, a.Type, first, len(da))
		}
	}
}

// Metadata keys in which our files differ from bitnet.cpp's, and why:
//
//   - arch: BitNetForCausalLM is "bitnet-b1.58" here (FORMATS.md §6) and
//     "bitnet-25" in the golden file, so every {arch}.* key differs by name
//     (with ArchName "bitnet-25" they are identical, see goldenSame).
//   - tokenizer.chat_template: convert-ms-to-gguf-bitnet.py writes a fixed
//     "BITNETAssistant" template that is not in the checkpoint; we write the
//     checkpoint's template and none when it has none.
//   - tokenizer.ggml.pre: "default" for SentencePiece, as
//     convert-hf-to-gguf-bitnet.py writes it (convert-ms omits it).
//   - tokenizer.ggml.add_space_prefix, remove_extra_whitespaces: from the
//     SentencePiece normalizer spec (newer llama.cpp converters write them);
//     they state what llama.cpp otherwise assumes.
//   - tokenizer.ggml.unknown_token_id: tokenizer_config.json's unk_token;
//     bitnet.cpp's SpecialVocab only reads ids from config.json.
//   - bitnet.rope.dimension_count: written for every architecture (bitnet.cpp
//     omits it for "bitnet" and derives it from the head size).
//   - general.quantization_version for TL2: bitnet.cpp writes it only from
//     llama-quantize (I2_S); every quantized file of ours has it.
//   - bitnet.tl.*: our record of the TL tiling (package documentation).
var (
	goldenB158Keys = []string{
		"+bitnet-b1.58.attention.head_count", "+bitnet-b1.58.attention.head_count_kv", "+bitnet-b1.58.attention.layer_norm_rms_epsilon",
		"+bitnet-b1.58.block_count", "+bitnet-b1.58.context_length", "+bitnet-b1.58.embedding_length", "+bitnet-b1.58.feed_forward_length",
		"+bitnet-b1.58.rope.dimension_count", "+bitnet-b1.58.rope.freq_base", "+bitnet-b1.58.vocab_size",
		"-bitnet-25.attention.head_count", "-bitnet-25.attention.head_count_kv", "-bitnet-25.attention.layer_norm_rms_epsilon",
		"-bitnet-25.block_count", "-bitnet-25.context_length", "-bitnet-25.embedding_length", "-bitnet-25.feed_forward_length",
		"-bitnet-25.rope.dimension_count", "-bitnet-25.rope.freq_base", "-bitnet-25.vocab_size",
		"~general.architecture",
	}
	goldenB158Same = []string{"+tokenizer.ggml.pre", "-tokenizer.chat_template"}
	goldenSPM      = []string{"+tokenizer.ggml.add_space_prefix", "+tokenizer.ggml.remove_extra_whitespaces", "+tokenizer.ggml.unknown_token_id"}
	goldenTL2      = []string{"+bitnet.tl.256x256", "+bitnet.tl.256x512", "+bitnet.tl.512x256", "+bitnet.tl.layout", "+general.quantization_version"}
)

func TestGoldenConvert(t *testing.T) {
	gd := goldenDir(t)
	join := func(lists ...[]string) []string {
		var out []string
		for _, l := range lists {
			out = append(out, l...)
		}
		sort.Strings(out)
		return out
	}
	cases := []struct {
		model, typ, arch string
		diff             []string
	}{
		{"bitnet-b158-tiny", "f32", "", join(goldenB158Keys, goldenB158Same, goldenSPM)},
		{"bitnet-b158-tiny", "i2_s", "", join(goldenB158Keys, goldenB158Same, goldenSPM)},
		{"bitnet-b158-tiny", "i2_s", "bitnet-25", join(goldenB158Same, goldenSPM)},
		{"bitnet-silu-tiny", "f32", "", join(goldenSPM, []string{"+bitnet.rope.dimension_count"})},
		{"bitnet-silu-tiny", "i2_s", "", join(goldenSPM, []string{"+bitnet.rope.dimension_count"})},
		{"bitnet-silu-tiny", "tl2", "", join(goldenSPM, goldenTL2, []string{"+bitnet.rope.dimension_count"})},
		{"llama-ternary-tiny", "f32", "", join(goldenSPM)},
		{"llama-ternary-tiny", "i2_s", "", join(goldenSPM)},
		{"llama-ternary-tiny", "tl2", "", join(goldenSPM, goldenTL2, []string{"+bitnet.tl.128x256"})},
	}
	for _, c := range cases {
		t.Run(c.model+"/"+c.typ+c.arch, func(t *testing.T) {
			ref := filepath.Join(gd, c.model, "bitnetcpp-"+c.typ+".gguf")
			typ, err := ParseType(c.typ)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.gguf")
			// general.name differs only by how the golden directories were
			// laid out (golden README §6); name it as bitnet.cpp did.
			opts := Options{Type: typ, Name: c.model, ArchName: c.arch}
			if err := Convert(context.Background(), filepath.Join(gd, c.model, "hf"), out, opts); err != nil {
				t.Fatal(err)
			}
			ours, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer ours.Close()
			theirs, err := gguf.Open(ref)
			if err != nil {
				t.Fatal(err)
			}
			defer theirs.Close()
			compareTensors(t, ours, theirs)
			if got := metaDiff(ours, theirs); !reflect.DeepEqual(got, c.diff) {
				t.Errorf("metadata differences from bitnet.cpp:\n got %q\nwant %q", got, c.diff)
			}
		})
	}
}
