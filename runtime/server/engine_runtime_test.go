package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/server"
)

// tinyLayout is the two-layer BitNet b1.58 shape of tinyModel.
var tinyLayout = convert.Layout{
	Name: "tiny", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
	Hidden: 256, FFN: 512, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 64,
	Vocab: 640, Context: 256, RopeTheta: 500000, Tied: true,
}

// tinyModel writes and loads a two-layer BitNet b1.58 model with random
// ternary weights and the built-in tokenizer.
func tinyModel(t *testing.T) *runtime.Model {
	t.Helper()
	return loadDummy(t, tinyLayout, 3)
}

// serveModel serves m with slots KV cache slots over an httptest server
// and returns its URL, the engine and the server, which close when the
// test ends.
func serveModel(t *testing.T, m *runtime.Model, slots int) (string, *server.RuntimeEngine, *server.Server) {
	t.Helper()
	eng, err := server.NewRuntimeEngine(m, slots)
	if err != nil {
		t.Fatal(err)
	}
	url, srv := serveEngine(t, eng)
	return url, eng, srv
}

// serveEngine serves eng over an httptest server and returns its URL and
// the server, which close when the test ends.
func serveEngine(t *testing.T, eng *server.RuntimeEngine) (string, *server.Server) {
	t.Helper()
	srv, err := server.New(eng, server.Config{ModelID: "tiny", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL, srv
}

// loadDummy writes a dummy GGUF of layout l with random weights from seed
// and loads it; the model is closed when the test ends.
func loadDummy(t *testing.T, l convert.Layout, seed uint64) *runtime.Model {
	t.Helper()
	path := filepath.Join(t.TempDir(), l.Name+".gguf")
	if err := convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: &l, Type: gguf.I2_S, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load(path, runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A sequence's logits do not depend on what else shares its step: a prompt
// read alone and the same prompt read in chunks beside another sequence's
// tokens give the same next-token logits.
func TestRuntimeEngineBatchInvariance(t *testing.T) {
	m := tinyModel(t)
	eng, err := server.NewRuntimeEngine(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	a := eng.EncodePrompt("the quick brown fox jumps over the lazy dog")
	b := eng.EncodePrompt("hello")

	step := func(entries ...server.StepEntry) []server.StepEntry {
		t.Helper()
		if err := eng.Step(entries); err != nil {
			t.Fatal(err)
		}
		return entries
	}
	alone := append([]float32(nil), step(server.StepEntry{Slot: 0, Tokens: a, WantLogits: true})[0].Logits...)
	eng.Free(0)

	// Slot 2 reads b while slot 1 reads a in two chunks.
	half := len(a) / 2
	step(server.StepEntry{Slot: 1, Tokens: a[:half]}, server.StepEntry{Slot: 2, Tokens: b, WantLogits: true})
	got := step(server.StepEntry{Slot: 2, Pos: len(b), Tokens: []int32{5}, WantLogits: true},
		server.StepEntry{Slot: 1, Pos: half, Tokens: a[half:], WantLogits: true})[1].Logits
	if len(got) != len(alone) {
		t.Fatalf("%d logits, want %d", len(got), len(alone))
	}
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i]-alone[i])))
	}
	if worst > 1e-3 {
		t.Errorf("batched logits differ from solo ones by up to %g", worst)
	}
	for s := range 3 {
		eng.Free(s)
	}
	if err := eng.Step([]server.StepEntry{{Slot: 0, Pos: 3, Tokens: a}}); err == nil {
		t.Error("a step at the wrong position was accepted")
	}
}

// Concurrent greedy requests through the server over the real runtime give
// the same text as the same requests one at a time.
func TestRuntimeEngineServes(t *testing.T) {
	m := tinyModel(t)
	url, eng, srv := serveModel(t, m, 4)

	prompts := []string{"one", "two two", "three three three", "four"}
	ask := func(p string) (string, usage) {
		body := fmt.Sprintf(`{"messages":[{"role":"user","content":%q}],"temperature":0,"max_tokens":12}`, p)
		resp, b := post(t, url+"/v1/chat/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%q: %d %s", p, resp.StatusCode, b)
		}
		var r response
		decode(t, b, &r)
		return r.Choices[0].Message.Content, *r.Usage
	}
	solo := make([]string, len(prompts))
	for i, p := range prompts {
		var u usage
		solo[i], u = ask(p)
		toks, _ := eng.EncodeChat([]server.ChatMessage{{Role: "user", Content: p}})
		if u.Prompt != len(toks) || u.Completion < 1 || u.Completion > 12 {
			t.Errorf("%q: usage %+v, prompt has %d tokens", p, u, len(toks))
		}
	}
	together := make([]string, len(prompts))
	var wg sync.WaitGroup
	for i, p := range prompts {
		wg.Go(func() { together[i], _ = ask(p) })
	}
	wg.Wait()
	for i := range prompts {
		if together[i] != solo[i] {
			t.Errorf("%q: batched %q, alone %q", prompts[i], together[i], solo[i])
		}
	}
	if st := srv.Stats(); st.Busy != 0 {
		t.Errorf("busy slots after all requests: %d", st.Busy)
	}
}
