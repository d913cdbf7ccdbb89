// Command gen is the Go half of the tokenizer reference test
// (test/tokenizers/run.sh): it writes a tiny Hugging Face dummy checkpoint
// of each built-in tokenizer family, DIR/falcon3 (the falcon3-1B layout)
// and DIR/llama3 (llama3-8B), shrunk to one small layer so that only the
// tokenizer files weigh anything.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/convert"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	for name, size := range map[string]string{"falcon3": "falcon3-1B", "llama3": "llama3-8B"} {
		l, err := convert.LookupLayout(size)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		// One layer of head_dim-256 heads fits both; the tokenizer does not
		// depend on the shape.
		l.Hidden, l.FFN, l.Layers, l.Heads, l.KVHeads, l.HeadDim, l.Vocab, l.Context = 512, 512, 1, 2, 1, 256, 512, 64
		if err := convert.WriteDummyHF(context.Background(), filepath.Join(os.Args[1], name), convert.DummyOptions{Layout: &l, Seed: 1}); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
