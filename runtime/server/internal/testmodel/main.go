// Command testmodel writes the dummy model that the server's end-to-end
// tests (test/openai) and load test run against: one of convert's dummy
// layouts (default 125M, bitnet.cpp's smallest benchmark shape) with the
// vocabulary cut to the built-in tokenizer's 512 tokens. Every sampled
// token is then text or an end-of-generation token, so replies are visible
// and end by themselves now and then, instead of being mostly the padding
// tokens of a 32002-row vocabulary that decode to nothing.
//
//	go run ./runtime/server/internal/testmodel -o /tmp/model.gguf
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
)

// builtinVocab is the size of convert's built-in dummy tokenizer.
const builtinVocab = 512

func main() {
	out := flag.String("o", "", "output GGUF path (required)")
	size := flag.String("size", "125M", "dummy layout ("+fmt.Sprint(convert.Layouts())+")")
	vocab := flag.Int("vocab", builtinVocab, "vocabulary rows (the tokenizer has 512; more are padding)")
	seed := flag.Uint64("seed", 1, "weight seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "testmodel: -o is required")
		os.Exit(2)
	}
	l, err := convert.LookupLayout(*size)
	if err == nil {
		l.Vocab = *vocab
		err = convert.WriteDummyGGUF(context.Background(), *out, convert.DummyOptions{Layout: &l, Type: gguf.I2_S, Seed: *seed})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testmodel:", err)
		os.Exit(1)
	}
}
