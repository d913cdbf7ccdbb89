package runtime_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/bitnet-go/bitnet/runtime"
)

// Generating text: load, tokenize, generate with a sampler, decode the
// stream.
func Example() {
	m, err := runtime.Load("ggml-model-i2_s.gguf", runtime.Options{Threads: 4})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok := m.Tokenizer()
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		log.Fatal(err)
	}
	cfg := runtime.DefaultSamplerConfig()
	cfg.Seed = 42
	dec := tok.NewDecoder()
	st, err := runtime.Generate(context.Background(), seq, tok.Encode("The capital of France is", true, false),
		runtime.GenerateOptions{MaxTokens: 32, Sampler: runtime.NewSampler(cfg)},
		func(id int32) error {
			_, err := fmt.Print(dec.Next(id))
			return err
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(dec.Flush())
	fmt.Fprintf(os.Stderr, "%.1f tokens/s\n", st.GenerateRate())
}

// Serving several requests: each has its own Sequence in one Session, and
// one Decode call advances them all in a single forward pass, new prompts
// and running generations alike.
func ExampleSession_Decode() {
	m, err := runtime.Load("ggml-model-i2_s.gguf", runtime.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	tok := m.Tokenizer()
	s := m.NewSession(2)
	a, _ := s.NewSequence()
	b, _ := s.NewSequence()
	defer a.Close()
	defer b.Close()
	next := [][]int32{tok.Encode("Once upon a time", true, false), tok.Encode("def fib(n):", true, false)}
	sampler := runtime.NewSampler(runtime.SamplerConfig{}) // greedy
	for range 16 {
		if err := s.Decode([]*runtime.Sequence{a, b}, next); err != nil {
			log.Fatal(err)
		}
		next = [][]int32{{sampler.Sample(a.Logits(), a.Tokens())}, {sampler.Sample(b.Logits(), b.Tokens())}}
	}
	fmt.Println(tok.Decode(a.Tokens()))
	fmt.Println(tok.Decode(b.Tokens()))
}
