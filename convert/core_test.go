package convert

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

func TestPermuteRows(t *testing.T) {
	// Two heads of four rows: llama.cpp's permute interleaves the two halves
	// of each head, GGUF row h·4 + 2i + j = HF row h·4 + 2j + i.
	src := []int{0, 1, 2, 3, 4, 5, 6, 7}
	dst := make([]int, 8)
	if err := permuteRows(dst, src, 8, 1, 2); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 1, 3, 4, 6, 5, 7}; !reflect.DeepEqual(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}
	// Rows move whole.
	src2 := []int{10, 11, 20, 21, 30, 31, 40, 41}
	dst2 := make([]int, 8)
	if err := permuteRows(dst2, src2, 4, 2, 1); err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 11, 30, 31, 20, 21, 40, 41}; !reflect.DeepEqual(dst2, want) {
		t.Errorf("got %v, want %v", dst2, want)
	}
	if err := permuteRows(dst, src, 8, 1, 3); err == nil {
		t.Error("8 rows over 3 heads accepted")
	}
}

func TestDequantizeSigned(t *testing.T) {
	vals := []float32{-0.001, 0.001, -2, 3, float32(math.Copysign(0, -1)), 0}
	codes := []int8{0, 0, -1, 1, 0, 0}
	dequantizeSigned(vals, codes, 0.5, true)
	want := []float32{0, 0, -0.5, 0.5, 0, 0}
	negZero := []bool{true, false, false, false, true, false}
	for i := range vals {
		if vals[i] != want[i] || math.Signbit(float64(vals[i])) != negZero[i] && want[i] == 0 {
			t.Errorf("vals[%d] = %v (signbit %v), want %v (negative zero %v)", i, vals[i], math.Signbit(float64(vals[i])), want[i], negZero[i])
		}
	}
	packed := []float32{9, 9}
	dequantizeSigned(packed, []int8{0, -1}, 2, false)
	if math.Signbit(float64(packed[0])) || packed[1] != -2 {
		t.Errorf("packed dequantization %v", packed)
	}
}

// refTorchSum is a direct transcription of ATen's cascade sum for one
// contiguous row (vectorized_inner_sum → row_sum → multi_row_sum) with
// 8-lane vectors, written vector by vector, to check the flattened
// implementation against.
func refTorchSum(x []float32) float32 {
	const V = 8
	n := len(x)
	if n < V {
		var ps [4]float32
		for i := 0; i < n/4*4; i += 4 {
			for k := range 4 {
				ps[k] += x[i+k]
			}
		}
		for i := n / 4 * 4; i < n; i++ {
			ps[0] += x[i]
		}
		return ((ps[0] + ps[1]) + ps[2]) + ps[3]
	}
	type vec [V]float32
	add := func(a *vec, b vec) {
		for i := range a {
			a[i] += b[i]
		}
	}
	load := func(i int) (v vec) { copy(v[:], x[i*V:]); return }
	vecs := n / V
	size := vecs / 4
	lp := max(4, ceilLog2(size)/4)
	step := 1 << lp
	var acc [4][4]vec
	i := 0
	for i+step <= size {
		for j := 0; j < step; j, i = j+1, i+1 {
			for k := range 4 {
				add(&acc[0][k], load(4*i+k))
			}
		}
		for j := 1; j < 4; j++ {
			for k := range 4 {
				add(&acc[j][k], acc[j-1][k])
				acc[j-1][k] = vec{}
			}
			if i&((step-1)<<(j*lp)) != 0 {
				break
			}
		}
	}
	for ; i < size; i++ {
		for k := range 4 {
			add(&acc[0][k], load(4*i+k))
		}
	}
	for j := 1; j < 4; j++ {
		for k := range 4 {
			add(&acc[0][k], acc[j][k])
		}
	}
	ps := acc[0]
	for v := size * 4; v < vecs; v++ {
		add(&ps[0], load(v))
	}
	for k := 1; k < 4; k++ {
		add(&ps[0], ps[k])
	}
	var final float32
	for k := vecs * V; k < n; k++ {
		final += x[k]
	}
	for _, l := range ps[0] {
		final += l
	}
	return final
}

func TestTorchAbsSum(t *testing.T) {
	r := &rng{s: 3}
	for _, n := range []int{1, 3, 7, 8, 9, 31, 32, 33, 100, 511, 512, 513, 4099, 65536, 131072, 3*65536 + 17} {
		x := make([]float32, n)
		r.normals(x, 1)
		abs := make([]float32, n)
		var exact float64
		for i, v := range x {
			abs[i] = float32(math.Abs(float64(v)))
			exact += math.Abs(float64(v))
		}
		got, want := torchAbsSum(x), refTorchSum(abs)
		if got != want {
			t.Errorf("n=%d: torchAbsSum %v, reference cascade %v", n, got, want)
		}
		if rel := math.Abs(float64(got)-exact) / exact; rel > 1e-5 {
			t.Errorf("n=%d: relative error %g against the float64 sum", n, rel)
		}
	}
}

func TestAbsmeanTorch(t *testing.T) {
	// mean|w| = 0.5, s = 2: 0.25·2 = 0.5 rounds to even (0), 0.375·2 → 1.
	w := []float32{0.25, -0.25, 0.375, -0.375, 1.25, -1.25, 0.125, 0.125}
	codes := make([]int8, len(w))
	scale, err := absmeanTorch(codes, w)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int8{0, 0, 1, -1, 1, -1, 0, 0}; !reflect.DeepEqual(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	if scale != 0.5 {
		t.Errorf("scale %v, want 0.5", scale)
	}
	// All zeros: the 1e-5 floor keeps the scale finite.
	scale, err = absmeanTorch(codes[:4], make([]float32, 4))
	if err != nil || scale != float32(1/float32(1/float32(1e-5))) {
		t.Errorf("zero tensor: scale %v, %v", scale, err)
	}
	if _, err := absmeanTorch(codes[:1], w); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestGGUFName(t *testing.T) {
	cases := map[string]string{
		"model.embed_tokens.weight":                      "token_embd.weight",
		"model.norm.weight":                              "output_norm.weight",
		"lm_head.weight":                                 "output.weight",
		"model.layers.0.self_attn.q_proj.weight":         "blk.0.attn_q.weight",
		"model.layers.12.self_attn.inner_attn_ln.weight": "blk.12.attn_sub_norm.weight",
		"model.layers.3.mlp.ffn_layernorm.weight":        "blk.3.ffn_sub_norm.weight",
		"model.layers.3.mlp.ffn_sub_norm.weight":         "blk.3.ffn_sub_norm.weight",
		"model.layers.1.post_attention_layernorm.weight": "blk.1.ffn_norm.weight",
		"model.layers.01.mlp.up_proj.weight":             "",
		"model.layers.1.mlp.up_proj.weight_scale":        "",
		"model.layers.x.mlp.up_proj.weight":              "",
		"transformer.h.0.attn.weight":                    "",
	}
	for hf, want := range cases {
		got, ok := GGUFName(hf)
		if got != want || ok != (want != "") {
			t.Errorf("GGUFName(%q) = %q, %v; want %q", hf, got, ok, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() *Config { return tinyB158.config() }
	cases := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"no architectures", func(c *Config) { c.Architectures = nil }, "architectures"},
		{"zero hidden", func(c *Config) { c.HiddenSize = 0 }, "hidden_size"},
		{"huge vocab", func(c *Config) { c.VocabSize = 1 << 30 }, "implausibly large"},
		{"kv heads do not divide", func(c *Config) { c.NumKeyValueHeads = 3 }, "num_key_value_heads"},
		{"odd head_dim", func(c *Config) { c.HeadDim = 63 }, "head_dim"},
		{"heads do not divide hidden", func(c *Config) { c.HeadDim = 0; c.NumAttentionHeads = 3; c.NumKeyValueHeads = 3 }, "not a multiple"},
		{"bad eps", func(c *Config) { c.RMSNormEps = 2 }, "rms_norm_eps"},
		{"biases", func(c *Config) { c.AttentionBias = true }, "biases"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.edit(cfg)
			err := cfg.validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
	cfg := base()
	cfg.NumKeyValueHeads, cfg.HeadDim, cfg.RMSNormEps, cfg.RopeTheta = 0, 0, 0, 0
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.NumKeyValueHeads != cfg.NumAttentionHeads || cfg.HeadDim != 64 || cfg.RMSNormEps != 1e-6 || cfg.RopeTheta != 10000 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestResolveArch(t *testing.T) {
	cases := []struct {
		layout Layout
		act    string
		want   Arch
	}{
		{tinyB158, "relu2", Arch{Name: ArchBitnetB158, HFArchitecture: "BitNetForCausalLM", Activation: "relu2", SubNorms: true, LinearClass: LinearClassAutoBitLinear}},
		{tinyB158, "silu", Arch{Name: ArchBitnet, HFArchitecture: "BitNetForCausalLM", Activation: "silu", SubNorms: true, LinearClass: LinearClassAutoBitLinear}},
		{tinySilu, "silu", Arch{Name: ArchBitnet, HFArchitecture: "BitnetForCausalLM", Activation: "silu", SubNorms: true, LinearClass: LinearClassBitLinear}},
		{tinySilu, "relu2", Arch{Name: ArchBitnetB158, HFArchitecture: "BitnetForCausalLM", Activation: "relu2", SubNorms: true, LinearClass: LinearClassBitLinear}},
		{tinyLlama, "silu", Arch{Name: ArchLlama, HFArchitecture: "LlamaForCausalLM", Activation: "silu", PermuteQK: true, LinearClass: LinearClassBitLinear}},
	}
	for _, c := range cases {
		cfg := c.layout.config()
		cfg.HiddenAct = c.act
		a, err := resolveArch(cfg)
		if err != nil {
			t.Errorf("%s/%s: %v", c.layout.Name, c.act, err)
			continue
		}
		if *a != c.want {
			t.Errorf("%s/%s: %+v, want %+v", c.layout.Name, c.act, *a, c.want)
		}
	}
}

func TestEmbedTypeFallback(t *testing.T) {
	cases := []struct {
		e     EmbedType
		model gguf.Type
		cols  int
		want  gguf.Type
	}{
		{EmbedDefault, gguf.F32, 2560, gguf.F32},
		{EmbedDefault, gguf.I2_S, 2560, gguf.F16},
		{EmbedQ6_K, gguf.I2_S, 2560, gguf.Q6_K},
		{EmbedQ6_K, gguf.I2_S, 3200, gguf.Q8_0}, // bitnet_b1_58-3B: 3200 % 256 ≠ 0
		{EmbedQ8_0, gguf.I2_S, 100, gguf.F16},
		{EmbedF32, gguf.TL2, 100, gguf.F32},
	}
	for _, c := range cases {
		got, err := c.e.ggmlType(c.model, c.cols)
		if err != nil || got != c.want {
			t.Errorf("EmbedType %d for %s with %d columns: %s, %v; want %s", c.e, c.model, c.cols, got, err, c.want)
		}
	}
}

func TestConvertCancelled(t *testing.T) {
	dir := writeTinyHF(t, tinyB158, DummyOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	err := Convert(ctx, dir, filepath.Join(out, "x.gguf"), Options{Type: gguf.I2_S})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if left := dirEntries(t, out); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestModelName(t *testing.T) {
	cases := map[string]string{
		"/data/bitnet-b1.58-2B-4T":  "bitnet-b1.58-2B-4T",
		"/data/bitnet-b1.58-2B-4T/": "bitnet-b1.58-2B-4T",
		"/root/.cache/huggingface/hub/models--microsoft--bitnet-b1.58-2B-4T-bf16/snapshots/5c4bd06": "bitnet-b1.58-2B-4T-bf16",
		"/x/snapshots/abc": "abc",
	}
	for dir, want := range cases {
		if got := ModelName(dir); got != want {
			t.Errorf("ModelName(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestAbsmeanStream(t *testing.T) {
	r := &rng{s: 11}
	for _, n := range []int{5, 40, 1000, absmeanChunk, 3*absmeanChunk + 40, 5*absmeanChunk + 7} {
		f := make([]float32, n)
		r.normals(f, 0.02)
		data := make([]byte, 2*n)
		if err := quantize.F32ToBF16(data, f); err != nil {
			t.Fatal(err)
		}
		ten := &Tensor{Name: "w", DType: "BF16", Shape: []uint64{uint64(n)}, Data: data, File: "test"}
		masters, err := ten.Float32()
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int8, n)
		wantScale, err := absmeanTorch(want, masters)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int8, n)
		scale, err := absmeanStream(ten, got)
		if err != nil {
			t.Fatal(err)
		}
		if scale != wantScale || !bytes.Equal(int8Bytes(got), int8Bytes(want)) {
			t.Errorf("n=%d: streamed scale %v, whole-tensor %v; codes equal %v", n, scale, wantScale, bytes.Equal(int8Bytes(got), int8Bytes(want)))
		}
	}
}
