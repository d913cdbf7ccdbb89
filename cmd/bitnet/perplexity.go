package main

import (
	"fmt"
	"os"
	"time"

	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/verify"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newPerplexityCmd) }

func newPerplexityCmd() *cobra.Command {
	var (
		model, textFile string
		chunk, threads  int
	)
	cmd := &cobra.Command{
		Use:   "perplexity -m FILE -f TEXT",
		Short: "Measure a model's perplexity on a text file",
		Long: `perplexity scores a text the way llama.cpp's llama-perplexity does, so the
figures compare: the text is cut into chunks of -c tokens, each starting with
BOS, and the predictions of the second half of every chunk are scored.
It prints the running estimate per chunk on stderr and the final
perplexity ± its standard error on stdout.`,
		Example: `  bitnet perplexity -m 2B-4T.i2_s.gguf -f wiki.test.raw -c 512`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := os.ReadFile(textFile)
			if err != nil {
				return err
			}
			m, err := runtime.Load(model, runtime.Options{Threads: threads, Context: chunk, Map: mapWeights, CheckTensors: checkTensors})
			if err != nil {
				return err
			}
			defer m.Close()
			tok := m.Tokenizer()
			if tok == nil {
				return fmt.Errorf("%s: %w", model, runtime.ErrNoTokenizer)
			}
			tokens := tok.Encode(string(text), false, false)
			stderr := cmd.ErrOrStderr()
			fmt.Fprintf(stderr, "%s: %d tokens, %d chunks of %d\n", textFile, len(tokens), len(tokens)/chunk, chunk)
			start := time.Now()
			res, err := verify.Perplexity(cmd.Context(), m, tokens, chunk, func(done, total int, r verify.PerplexityResult) {
				eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done)).Round(time.Second)
				fmt.Fprintf(stderr, "\r[%d/%d] PPL %.4f ± %.4f, ETA %s   ", done, total, r.PPL, r.StdErr, eta)
			})
			fmt.Fprintln(stderr)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "PPL = %.4f ± %.4f (%d chunks of %d tokens, %d scored, %s)\n",
				res.PPL, res.StdErr, res.Chunks, chunk, res.Scored, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&model, "model", "m", "", "GGUF model (required)")
	f.StringVarP(&textFile, "file", "f", "", "text file to score (required)")
	f.IntVarP(&chunk, "ctx-size", "c", 512, "tokens per chunk")
	f.IntVarP(&threads, "threads", "t", 0, "threads (default: all CPUs)")
	cmd.MarkFlagRequired("model")
	cmd.MarkFlagRequired("file")
	return cmd
}
