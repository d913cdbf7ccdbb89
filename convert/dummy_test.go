package convert

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

func writeTinyGGUF(t *testing.T, l Layout, opts DummyOptions) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), l.Name+".gguf")
	opts.Layout = &l
	if err := WriteDummyGGUF(context.Background(), path, opts); err != nil {
		t.Fatalf("WriteDummyGGUF(%s, %s): %v", l.Name, opts.Type, err)
	}
	return path
}

// decodeTernary unpacks a ternary tensor of a GGUF written by us.
func decodeTernary(t *testing.T, f *gguf.File, ti *gguf.TensorInfo) ([]int8, float32) {
	t.Helper()
	k, m := int(ti.Shape[0]), int(ti.Shape[1])
	codes := make([]int8, k*m)
	var scale float32
	var err error
	switch ti.Type {
	case gguf.I2_S:
		scale, err = quantize.UnpackI2S(codes, ti.Data, m, k)
	case gguf.TL1, gguf.TL2:
		v, ok := f.Get(TLShapeKey(m, k))
		if !ok {
			t.Fatalf("%s: no %s", ti.Name, TLShapeKey(m, k))
		}
		a := v.(gguf.Array).Values.([]uint32)
		p := quantize.TLParams{BM: int(a[0]), BK: int(a[1]), Bm: int(a[2])}
		if ti.Type == gguf.TL1 {
			scale, err = quantize.UnpackTL1(codes, ti.Data, m, k, p)
		} else {
			scale, err = quantize.UnpackTL2(codes, ti.Data, m, k, p)
		}
	default:
		t.Fatalf("%s: %s is not ternary", ti.Name, ti.Type)
	}
	if err != nil {
		t.Fatalf("%s: %v", ti.Name, err)
	}
	return codes, scale
}

func TestWriteDummyGGUF(t *testing.T) {
	for _, l := range []Layout{tinyB158, tinySilu, tinyLlama} {
		// Codes of the I2_S file: every type of the same seed holds them.
		ref := map[string][]int8{}
		for _, typ := range []gguf.Type{gguf.I2_S, gguf.TL1, gguf.TL2, gguf.F16, gguf.F32} {
			t.Run(l.Name+"/"+typ.String(), func(t *testing.T) {
				path := writeTinyGGUF(t, l, DummyOptions{Type: typ, Seed: 1})
				f, err := gguf.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				_, _, a, specs, err := dummyModel(DummyOptions{Layout: &l})
				if err != nil {
					t.Fatal(err)
				}
				if f.Arch() != a.Name || len(f.Tensors) != len(specs) {
					t.Fatalf("arch %q with %d tensors, want %q with %d", f.Arch(), len(f.Tensors), a.Name, len(specs))
				}
				if ft, _ := f.Uint("general.file_type"); ft != uint64(must(FileType(typ))) {
					t.Errorf("general.file_type %d", ft)
				}
				if v, _ := f.Uint(a.Name + ".vocab_size"); v != uint64(l.Vocab) {
					t.Errorf("vocab_size %d", v)
				}
				if toks, _ := f.Strings("tokenizer.ggml.tokens"); len(toks) != l.Vocab {
					t.Errorf("%d tokens", len(toks))
				}
				for i, s := range specs {
					ti := &f.Tensors[i]
					if ti.Name != s.GGUFName || !reflect.DeepEqual(ti.Shape, s.GGMLShape()) {
						t.Fatalf("tensor %d: %s %v, want %s %v", i, ti.Name, ti.Shape, s.GGUFName, s.GGMLShape())
					}
					if s.Role != RoleProjection || !typ.IsTernary() {
						continue
					}
					codes, scale := decodeTernary(t, f, ti)
					if want := dummyScale(s.Cols); scale != want {
						t.Errorf("%s: scale %v, want %v", ti.Name, scale, want)
					}
					if typ == gguf.I2_S {
						ref[ti.Name] = codes
					} else if !bytes.Equal(int8Bytes(codes), int8Bytes(ref[ti.Name])) {
						t.Errorf("%s: %s codes differ from the I2_S file's", ti.Name, typ)
					}
					var hist [3]int
					for _, c := range codes {
						hist[c+1]++
					}
					for v, n := range hist {
						if n < len(codes)/4 {
							t.Errorf("%s: code %d appears %d times in %d", ti.Name, v-1, n, len(codes))
						}
					}
				}
			})
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWriteDummyGGUFDeterministic(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := read(writeTinyGGUF(t, tinyB158, DummyOptions{Type: gguf.I2_S, Seed: 5, Workers: 1}))
	b := read(writeTinyGGUF(t, tinyB158, DummyOptions{Type: gguf.I2_S, Seed: 5, Workers: 3, MemoryBudget: 1}))
	c := read(writeTinyGGUF(t, tinyB158, DummyOptions{Type: gguf.I2_S, Seed: 6}))
	if !bytes.Equal(a, b) {
		t.Error("same seed, different files")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same file")
	}
}

func TestDummyEmbedTypes(t *testing.T) {
	cases := map[EmbedType]gguf.Type{EmbedDefault: gguf.F16, EmbedF16: gguf.F16, EmbedF32: gguf.F32, EmbedQ8_0: gguf.Q8_0, EmbedQ6_K: gguf.Q6_K}
	for e, et := range cases {
		f, err := gguf.Open(writeTinyGGUF(t, tinyLlama, DummyOptions{Type: gguf.I2_S, EmbedType: e}))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"token_embd.weight", "output.weight"} {
			if ti, _ := f.Tensor(name); ti == nil || ti.Type != et {
				t.Errorf("EmbedType %d: %s is not %s", e, name, et)
			}
		}
		f.Close()
	}
}

func TestLayouts(t *testing.T) {
	for _, name := range Layouts() {
		_, cfg, _, specs, err := dummyModel(DummyOptions{Size: name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, s := range specs {
			if s.Role == RoleProjection && (s.Rows*s.Cols)%128 != 0 {
				t.Errorf("%s: %s has %d×%d weights, not whole I2_S blocks", name, s.GGUFName, s.Rows, s.Cols)
			}
		}
		if cfg.VocabSize < dummyVocabSize {
			t.Errorf("%s: vocabulary %d", name, cfg.VocabSize)
		}
	}
	bad := tinyLlama
	bad.Tokenizer = 9
	if _, _, _, _, err := dummyModel(DummyOptions{Layout: &bad}); err == nil || !strings.Contains(err.Error(), "built-in tokenizer") {
		t.Errorf("unknown tokenizer family: %v", err)
	}
	if _, err := LookupLayout("2b-4t"); err != nil {
		t.Error(err)
	}
	if _, err := LookupLayout("42B"); err == nil || !strings.Contains(err.Error(), "125M") {
		t.Errorf("unknown size: %v", err)
	}
}

func TestDummyHFRoundTrip(t *testing.T) {
	cases := []struct {
		layout Layout
		opts   DummyOptions
	}{
		{tinyB158, DummyOptions{}},
		{tinySilu, DummyOptions{MaxShardBytes: 200 << 10}},
		{tinyLlama, DummyOptions{Packed: true}},
		{tinyB158, DummyOptions{Packed: true}},
		{tinyFalcon3, DummyOptions{}},
	}
	for _, c := range cases {
		name := c.layout.Name
		if c.opts.Packed {
			name += "-packed"
		}
		t.Run(name, func(t *testing.T) {
			dir := writeTinyHF(t, c.layout, c.opts)
			ck, err := OpenCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			if got, want := ck.Tied(), c.layout.Tied; got != want {
				t.Errorf("Tied() = %v, want %v", got, want)
			}
			for _, w := range ck.Weights() {
				if w.Role != RoleProjection {
					continue
				}
				if w.Packed != c.opts.Packed {
					t.Errorf("%s: packed %v", w.HFName, w.Packed)
				}
				tw, err := ck.Ternary(w.HFName)
				if err != nil {
					t.Fatal(err)
				}
				if c.opts.Packed {
					// weight_scale went through bf16, and bitlinear stores its
					// inverse: agree to bf16 precision.
					if want := dummyScale(w.Cols); math.Abs(float64(tw.Scale/want-1)) > 1.0/128 {
						t.Errorf("%s: scale %v, want ≈ %v", w.HFName, tw.Scale, want)
					}
				}
			}
			vocab, err := ck.Vocab("")
			if err != nil {
				t.Fatal(err)
			}
			builtin, err := dummyVocab(c.layout, ck.Config)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(vocab.KV(), builtin.KV()) {
				t.Error("the checkpoint's tokenizer metadata differs from the dummy GGUF's")
			}
			out := filepath.Join(t.TempDir(), "out.gguf")
			if err := ck.WriteGGUF(context.Background(), out, vocab, Options{Type: gguf.TL2}); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// Every TL2 tensor decodes to Ternary's codes (q and k permuted
			// for llama).
			for _, w := range ck.Weights() {
				if w.Role != RoleProjection {
					continue
				}
				ti, _ := f.Tensor(w.GGUFName)
				codes, scale := decodeTernary(t, f, ti)
				tw, _ := ck.Ternary(w.HFName)
				want := tw.T
				if w.PermuteHeads > 0 {
					want = make([]int8, len(tw.T))
					if err := permuteRows(want, tw.T, w.Rows, w.Cols, w.PermuteHeads); err != nil {
						t.Fatal(err)
					}
				}
				if !bytes.Equal(int8Bytes(codes), int8Bytes(want)) || scale != tw.Scale {
					t.Errorf("%s: TL2 round trip differs (scale %v vs %v)", w.GGUFName, scale, tw.Scale)
				}
			}
		})
	}
}

func int8Bytes(c []int8) []byte {
	b := make([]byte, len(c))
	for i, v := range c {
		b[i] = byte(v)
	}
	return b
}

func TestShardsWithoutIndex(t *testing.T) {
	dir := copyDir(t, writeTinyHF(t, tinySilu, DummyOptions{MaxShardBytes: 200 << 10}))
	if err := os.Remove(filepath.Join(dir, "model.safetensors.index.json")); err != nil {
		t.Fatal(err)
	}
	ck, err := OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	ck.Close()
	os.Remove(filepath.Join(dir, "model-00003-of-"+shardCount(t, dir)+".safetensors"))
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "model-00003-of-") {
		t.Errorf("missing shard: %v", err)
	}
}

// TestDummyPublishedEmbedType: a layout whose published GGUF stores the
// token embedding as Q8_0 (1bitLLM's 3B, FORMATS.md §10) gets Q8_0 by
// default, including a row length that is not a multiple of 256 as 3200
// is; an explicit --embed-type still wins, and float dummies stay float.
func TestDummyPublishedEmbedType(t *testing.T) {
	if l, err := LookupLayout("3B"); err != nil || l.Embed != EmbedQ8_0 {
		t.Fatalf("3B layout: %+v, %v", l, err)
	}
	like3B := tinySilu
	like3B.Name, like3B.Hidden, like3B.HeadDim, like3B.Embed = "tiny-3B", 384, 96, EmbedQ8_0
	for _, c := range []struct {
		opts DummyOptions
		want gguf.Type
	}{
		{DummyOptions{Type: gguf.I2_S}, gguf.Q8_0},
		{DummyOptions{Type: gguf.I2_S, EmbedType: EmbedF16}, gguf.F16},
		{DummyOptions{Type: gguf.F32}, gguf.F32},
	} {
		f, err := gguf.Open(writeTinyGGUF(t, like3B, c.opts))
		if err != nil {
			t.Fatal(err)
		}
		if ti, _ := f.Tensor("token_embd.weight"); ti == nil || ti.Type != c.want {
			t.Errorf("%+v: token_embd is %v, want %s", c.opts, ti, c.want)
		}
		f.Close()
	}
}

// TestFalcon3Layouts: the Falcon3-*-1.58bit shapes of their public
// configs (FORMATS.md §10): head_dim 256, θ 1000042, an untied head, the
// 131072-token vocabulary and rms_norm_eps 1e-6.
func TestFalcon3Layouts(t *testing.T) {
	for _, name := range []string{"falcon3-1B", "falcon3-3B", "falcon3-7B", "falcon3-10B"} {
		l, err := LookupLayout(name)
		if err != nil {
			t.Fatal(err)
		}
		c := l.config()
		if c.HeadDim != 256 || c.RopeTheta != 1000042 || l.Tied || c.VocabSize != 131072 || c.RMSNormEps != 1e-6 || c.NumKeyValueHeads != 4 || l.Tokenizer != TokenizerFalcon3 {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if l, _ := LookupLayout("2B-4T"); l.config().RMSNormEps != 1e-5 {
		t.Error("2B-4T: rms_norm_eps is not 1e-5")
	}
}

// TestDummyHFInterrupted: a dummy checkpoint interrupted while its weights
// are written leaves no config.json (the directory must not pass for a
// complete checkpoint) and no temporary file.
func TestDummyHFInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := tinyB158
	err := WriteDummyHF(ctx, dir, DummyOptions{Layout: &l, Seed: 1, MaxShardBytes: 300 << 10, Progress: func(done, total int64) {
		if done > total/2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancellation", err)
	}
	for _, n := range dirEntries(t, dir) {
		if n == "config.json" || strings.Contains(n, ".tmp-") {
			t.Errorf("interrupted checkpoint holds %s", n)
		}
	}
	if _, err := OpenCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "config.json is missing") {
		t.Errorf("the interrupted checkpoint opens: %v", err)
	}
}

// TestFalcon3DummyTokenizer: a falcon3 layout's dummy GGUF carries
// Falcon3's tokenizer (pre-tokenizer falcon3, Falcon's specials,
// <|endoftext|> as BOS and EOS, no BOS added, the falcon3 chat template,
// no merge with a digit), and its Hugging Face checkpoint converts to the
// same tokenizer metadata, key for key.
func TestFalcon3DummyTokenizer(t *testing.T) {
	f, err := gguf.Open(writeTinyGGUF(t, tinyFalcon3, DummyOptions{Type: gguf.I2_S, Seed: 1}))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if pre, _ := f.String("tokenizer.ggml.pre"); pre != "falcon3" {
		t.Errorf("tokenizer.ggml.pre %q, want falcon3", pre)
	}
	toks, _ := f.Strings("tokenizer.ggml.tokens")
	tt, _ := f.Array("tokenizer.ggml.token_type")
	types, _ := tt.Values.([]int32)
	if len(types) != len(toks) {
		t.Fatalf("%d token types for %d tokens", len(types), len(toks))
	}
	id := map[string]int{}
	for i, tok := range toks {
		id[tok] = i
	}
	for _, s := range []string{">>TITLE<<", ">>ABSTRACT<<", ">>QUESTION<<", ">>ANSWER<<", "<|endoftext|>"} {
		if i, ok := id[s]; !ok || types[i] != TokenControl {
			t.Errorf("%s: id %d (%v), type %d; want a control token", s, i, ok, types[i])
		}
	}
	if _, ok := id["<|begin_of_text|>"]; ok {
		t.Error("the Falcon3 vocabulary has Llama 3's <|begin_of_text|>")
	}
	eot := uint64(id["<|endoftext|>"])
	bos, _ := f.Uint("tokenizer.ggml.bos_token_id")
	eos, _ := f.Uint("tokenizer.ggml.eos_token_id")
	if bos != eot || eos != eot {
		t.Errorf("BOS %d, EOS %d; want <|endoftext|> %d for both", bos, eos, eot)
	}
	if add, ok := f.Bool("tokenizer.ggml.add_bos_token"); !ok || add {
		t.Errorf("add_bos_token %v (present %v), want false", add, ok)
	}
	if tmpl, _ := f.String("tokenizer.chat_template"); tmpl != flavours[TokenizerFalcon3].chatTemplate || !strings.Contains(tmpl, "<|assistant|>") {
		t.Errorf("chat template %q", tmpl)
	}
	merges, _ := f.Strings("tokenizer.ggml.merges")
	if len(merges) == 0 {
		t.Fatal("no merges")
	}
	for _, m := range merges {
		if strings.ContainsAny(m, "0123456789") {
			t.Errorf("merge %q joins a digit: Falcon3 splits numbers into single digits", m)
		}
	}

	dir := writeTinyHF(t, tinyFalcon3, DummyOptions{})
	var tj struct {
		PreTokenizer struct {
			Type          string `json:"type"`
			PreTokenizers []struct {
				Type string `json:"type"`
			} `json:"pretokenizers"`
		} `json:"pre_tokenizer"`
	}
	var tc struct {
		BOS          string `json:"bos_token"`
		EOS          string `json:"eos_token"`
		ChatTemplate string `json:"chat_template"`
	}
	for name, v := range map[string]any{"tokenizer.json": &tj, "tokenizer_config.json": &tc} {
		if err := readJSONFile(filepath.Join(dir, name), maxJSONFile, v); err != nil {
			t.Fatal(err)
		}
	}
	var chain []string
	for _, p := range tj.PreTokenizer.PreTokenizers {
		chain = append(chain, p.Type)
	}
	if got := tj.PreTokenizer.Type + strings.Join(chain, ","); got != "SequencePunctuation,ByteLevel,Digits" {
		t.Errorf("pre_tokenizer %s, want a Sequence of Punctuation, ByteLevel, Digits", got)
	}
	if tc.BOS != "<|endoftext|>" || tc.EOS != "<|endoftext|>" || tc.ChatTemplate != flavours[TokenizerFalcon3].chatTemplate {
		t.Errorf("tokenizer_config.json: %+v", tc)
	}
	out := filepath.Join(t.TempDir(), "converted.gguf")
	if err := Convert(context.Background(), dir, out, Options{Type: gguf.I2_S}); err != nil {
		t.Fatal(err)
	}
	g, err := gguf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if a, b := tokenizerKV(f), tokenizerKV(g); !reflect.DeepEqual(a, b) {
		t.Errorf("tokenizer metadata differs:\n dummy     %v\n converted %v", a, b)
	}
}

// tokenizerKV is a GGUF's tokenizer.* metadata.
func tokenizerKV(f *gguf.File) []gguf.KV {
	var kv []gguf.KV
	for _, e := range f.KV {
		if strings.HasPrefix(e.Key, "tokenizer.") {
			kv = append(kv, e)
		}
	}
	return kv
}
