package runtime

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

func loadTiny(t *testing.T, spec tinySpec, opts Options) *Model {
	t.Helper()
	path, _ := spec.write(t, t.TempDir())
	m, err := Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func promptLogits(t *testing.T, m *Model, tokens []int32) []float32 {
	t.Helper()
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	got, err := seq.PromptLogits(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestBatchedSequences: sequences evaluated together in one forward pass,
// interleaved, get exactly the logits they get alone, and the prompt split
// into small batches gives exactly the logits of one batch.
func TestBatchedSequences(t *testing.T) {
	m := loadTiny(t, defaultTiny("bitnet-b1.58"), Options{Threads: 2})
	a := []int32{1, 2, 3, 4, 5, 6, 7}
	b := []int32{9, 8, 7}
	c := []int32{1, 2, 3, 40}
	wantA, wantB, wantC := promptLogits(t, m, a), promptLogits(t, m, b), promptLogits(t, m, c)
	v := m.Config().Vocab

	s := m.NewSession(3)
	var batch Batch
	// a's first 4 tokens and b in one pass, interleaved; then the rest of a with c.
	for i := range 4 {
		batch.Add(a[i], 0, true)
		if i < len(b) {
			batch.Add(b[i], 1, true)
		}
	}
	got, err := s.Forward(&batch)
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]float32{}
	for r := range batch.Len() {
		rows = append(rows, got[r*v:(r+1)*v])
	}
	order := []struct{ seq, pos int }{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}, {0, 3}}
	for r, o := range order {
		want := wantA
		if o.seq == 1 {
			want = wantB
		}
		if !slices.Equal(rows[r], want[o.pos*v:(o.pos+1)*v]) {
			t.Errorf("batch row %d (seq %d pos %d) differs from the sequence alone", r, o.seq, o.pos)
		}
	}
	batch.Reset()
	for i := 4; i < len(a); i++ {
		batch.Add(a[i], 0, i == len(a)-1)
	}
	for i, tok := range c {
		batch.Add(tok, 2, i == len(c)-1)
	}
	got, err = s.Forward(&batch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got[:v], wantA[(len(a)-1)*v:]) || !slices.Equal(got[v:2*v], wantC[(len(c)-1)*v:]) {
		t.Error("second pass differs from the sequences alone")
	}
	if s.Cache().Len(0) != len(a) || s.Cache().Len(1) != len(b) || s.Cache().Len(2) != len(c) {
		t.Errorf("cache lengths %d %d %d", s.Cache().Len(0), s.Cache().Len(1), s.Cache().Len(2))
	}

	small := loadTiny(t, defaultTiny("bitnet-b1.58"), Options{Threads: 1, BatchSize: 3})
	if got := promptLogits(t, small, a); !slices.Equal(got, wantA) {
		t.Error("prompt in batches of 3 differs from one batch")
	}
}

// TestCacheGrowth: a sequence fed one token at a time, so that its cache
// grows (16, 32, 64 positions) and is copied under way, gets exactly the
// logits of the same tokens in one pass, with two other sequences of other
// lengths sharing the session.
func TestCacheGrowth(t *testing.T) {
	m := loadTiny(t, defaultTiny("llama"), Options{Threads: 2})
	tokens := make([]int32, 40)
	for i := range tokens {
		tokens[i] = int32(i*7%50 + 1)
	}
	want := promptLogits(t, m, tokens)
	v := m.Config().Vocab
	s := m.NewSession(3)
	var batch Batch
	for i, tok := range tokens {
		batch.Reset()
		batch.Add(tok, 1, true)
		if i%3 == 0 {
			batch.Add(tok+1, 0, true)
		}
		if i%2 == 0 {
			batch.Add(tok+2, 2, true)
		}
		got, err := s.Forward(&batch)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[:v], want[i*v:(i+1)*v]) {
			t.Fatalf("token %d: one-at-a-time logits differ from the one-pass prompt", i)
		}
	}
}

// TestCacheSlotReuse: a freed slot keeps its memory (40 positions full of
// the old sequence's keys) for the next sequence, which must see none of
// it: its logits are those of a fresh session.
func TestCacheSlotReuse(t *testing.T) {
	m := loadTiny(t, defaultTiny("llama"), Options{Threads: 2})
	long := make([]int32, 40)
	for i := range long {
		long[i] = int32(i*5%50 + 1)
	}
	short := []int32{9, 8, 7, 6, 5}
	want := promptLogits(t, m, short)
	s := m.NewSession(1)
	a, _ := s.NewSequence()
	if err := a.Prompt(long); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := s.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Prompt(short); err != nil {
		t.Fatal(err)
	}
	if capN := s.Cache().slots[0].capN; capN != len(long) {
		t.Errorf("slot capacity %d after reuse, want the %d it had", capN, len(long))
	}
	v := m.Config().Vocab
	if !slices.Equal(b.Logits(), want[4*v:5*v]) {
		t.Error("a sequence on reused memory gives different logits")
	}
}

// TestSequenceLifecycle covers Decode of several Sequences, Truncate and
// slot reuse.
func TestSequenceLifecycle(t *testing.T) {
	m := loadTiny(t, defaultTiny("llama"), Options{Threads: 2})
	v := m.Config().Vocab
	full := []int32{3, 1, 4, 1, 5, 9, 2, 6}
	want := promptLogits(t, m, full)
	last := func(i int) []float32 { return want[i*v : (i+1)*v] }

	s := m.NewSession(2)
	x, _ := s.NewSequence()
	y, _ := s.NewSequence()
	if _, err := s.NewSequence(); !errors.Is(err, ErrNoFreeSlot) {
		t.Errorf("third sequence: %v, want ErrNoFreeSlot", err)
	}
	if err := s.Decode([]*Sequence{x, y}, [][]int32{full[:5], full[:2]}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Logits(), last(4)) || !slices.Equal(y.Logits(), last(1)) {
		t.Error("Decode logits differ")
	}
	if err := s.Decode([]*Sequence{y, x}, [][]int32{full[2:8], full[5:6]}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y.Logits(), last(7)) || !slices.Equal(x.Logits(), last(5)) {
		t.Error("second Decode logits differ")
	}
	if !slices.Equal(y.Tokens(), full) || x.Len() != 6 {
		t.Errorf("histories: %v, %d", y.Tokens(), x.Len())
	}
	// Rewind x to 3 tokens and take another path, then come back.
	if err := x.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if err := x.Prompt([]int32{7, 7}); err != nil {
		t.Fatal(err)
	}
	if err := x.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if err := x.Prompt(full[3:6]); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x.Logits(), last(5)) {
		t.Error("logits after truncating and re-evaluating differ")
	}
	if err := x.Truncate(10); err == nil {
		t.Error("truncating past the end succeeded")
	}
	x.Close()
	z, err := s.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if z.ID() != x.ID() || z.Len() != 0 {
		t.Errorf("reused slot %d with %d tokens", z.ID(), z.Len())
	}
	if err := z.Prompt(full[:1]); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(z.Logits(), last(0)) {
		t.Error("reused slot gives different logits")
	}
	if err := x.Decode(1); err == nil {
		t.Error("Decode on a closed sequence succeeded")
	}
}

// TestContextFull: prompts and generation stop cleanly at the context size.
func TestContextFull(t *testing.T) {
	spec := defaultTiny("bitnet")
	spec.ctx = 8
	m := loadTiny(t, spec, Options{Threads: 1})
	s := m.NewSession(1)
	seq, _ := s.NewSequence()
	if err := seq.Prompt(make([]int32, 9)); !errors.Is(err, ErrContextFull) {
		t.Fatalf("9 tokens into a context of 8: %v", err)
	}
	if seq.Len() != 0 {
		t.Errorf("failed prompt left %d tokens", seq.Len())
	}
	var got []int32
	st, err := Generate(context.Background(), seq, []int32{1, 2, 3}, GenerateOptions{IsEOG: func(int32) bool { return false }},
		func(id int32) error { got = append(got, id); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Stop != StopContext || len(got) != 6 || seq.Len() != 8 {
		t.Errorf("stop %v after %d tokens, sequence %d", st.Stop, len(got), seq.Len())
	}
	var b Batch
	b.Add(1, 0, true)
	if _, err := s.Forward(&b); !errors.Is(err, ErrContextFull) {
		t.Errorf("Forward past the context: %v", err)
	}
	b.Reset()
	b.Add(1, 5, true)
	if _, err := s.Forward(&b); err == nil {
		t.Error("Forward into a missing slot succeeded")
	}
	b.Reset()
	b.Add(int32(spec.vocab), 0, true)
	if _, err := s.Forward(&b); err == nil {
		t.Error("Forward of a token outside the vocabulary succeeded")
	}
}

// TestGenerate covers greedy generation, stopping rules and cancellation.
func TestGenerate(t *testing.T) {
	m := loadTiny(t, defaultTiny("bitnet-b1.58"), Options{Threads: 2})
	prompt := []int32{1, 10, 20}
	run := func(opts GenerateOptions, emit func(int32) error) ([]int32, Stats, error) {
		seq, _ := m.NewSession(1).NewSequence()
		var got []int32
		st, err := Generate(context.Background(), seq, prompt, opts, func(id int32) error {
			got = append(got, id)
			if emit != nil {
				return emit(id)
			}
			return nil
		})
		return got, st, err
	}
	greedy, st, err := run(GenerateOptions{MaxTokens: 6}, nil)
	if err != nil || st.Stop != StopMaxTokens || len(greedy) != 6 || st.PromptTokens != 3 || st.Generated != 6 {
		t.Fatalf("greedy: %v %v %+v", greedy, err, st)
	}
	// Greedy equals the argmax of the logits, step by step.
	seq, _ := m.NewSession(1).NewSequence()
	if err := seq.Prompt(prompt); err != nil {
		t.Fatal(err)
	}
	for i, id := range greedy {
		if a := int32(argmax(seq.Logits())); a != id {
			t.Fatalf("step %d: generated %d, argmax %d", i, id, a)
		}
		if err := seq.Decode(id); err != nil {
			t.Fatal(err)
		}
	}
	stopAt := greedy[2]
	got, st, _ := run(GenerateOptions{IsEOG: func(id int32) bool { return id == stopAt }}, nil)
	if st.Stop != StopEOG || st.LastToken != stopAt || slices.Contains(got, stopAt) {
		t.Errorf("EOG: %v %+v", got, st)
	}
	got, st, err = run(GenerateOptions{MaxTokens: 10}, func(int32) error { return ErrStop })
	if err != nil || st.Stop != StopCallback || len(got) != 1 {
		t.Errorf("ErrStop: %v %v %+v", got, err, st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	seq, _ = m.NewSession(1).NewSequence()
	n := 0
	st, err = Generate(ctx, seq, prompt, GenerateOptions{MaxTokens: 10}, func(int32) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || st.Stop != StopCanceled || st.Generated != 2 {
		t.Errorf("cancel: %v %+v", err, st)
	}
	// Sampling with a seed is reproducible.
	cfg := DefaultSamplerConfig()
	cfg.Seed, cfg.Temp = 42, 1.5
	a, _, _ := run(GenerateOptions{MaxTokens: 8, Sampler: NewSampler(cfg)}, nil)
	b, _, _ := run(GenerateOptions{MaxTokens: 8, Sampler: NewSampler(cfg)}, nil)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different tokens: %v %v", a, b)
	}
}

// TestTLRepack: TL1 and TL2 files of the same codes and scales give exactly
// the I2_S file's logits, with the tiling read from the metadata.
func TestTLRepack(t *testing.T) {
	tokens := []int32{1, 2, 3, 4, 5}
	spec := defaultTiny("bitnet-b1.58")
	want := promptLogits(t, loadTiny(t, spec, Options{Threads: 2}), tokens)
	for _, typ := range []gguf.Type{gguf.TL1, gguf.TL2} {
		spec.proj = typ
		if got := promptLogits(t, loadTiny(t, spec, Options{Threads: 2}), tokens); !slices.Equal(got, want) {
			t.Errorf("%v logits differ from I2_S", typ)
		}
	}
}
