package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/verify"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newQuickstartCmd) }

// quickstartLayout is a small BitNet b1.58 (2B-4T architecture: ReLU²,
// sub-norms, GQA, tied head) that runs the whole pipeline in seconds.
var quickstartLayout = convert.Layout{
	Name: "quickstart", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
	Hidden: 512, FFN: 1408, Layers: 4, Heads: 8, KVHeads: 2, HeadDim: 64,
	Vocab: 1024, Context: 512, RopeTheta: 500000, Tied: true,
}

func newQuickstartCmd() *cobra.Command {
	var dir string
	var threads int
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole pipeline on a built-in model, offline",
		Long: `quickstart needs no network and no download. It
  1. writes a small BitNet b1.58 checkpoint with random bf16 weights
     (the 2B-4T architecture at 4 layers × 512 wide) in Hugging Face format,
  2. converts it to an I2_S GGUF,
  3. verifies the conversion against the float64 reference forward pass,
  4. generates 32 tokens and prints the speed,
leaving its files in --dir. The weights are random, so the text is noise:
the point is that every stage runs and the conversion is proven lossless.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return quickstart(cmd.Context(), cmd.OutOrStdout(), dir, threads)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "bitnet-quickstart", "directory for the checkpoint and the GGUF")
	cmd.Flags().IntVarP(&threads, "threads", "t", 0, "threads (default: all CPUs)")
	return cmd
}

func quickstart(ctx context.Context, w io.Writer, dir string, threads int) error {
	start := time.Now()
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	hf := filepath.Join(abs, "hf")
	model := filepath.Join(abs, "quickstart.i2_s.gguf")
	if err := os.MkdirAll(hf, 0o755); err != nil {
		return err
	}
	step := func(n int, what string) func() {
		t := time.Now()
		fmt.Fprintf(w, "[%d/4] %s ... ", n, what)
		return func() { fmt.Fprintf(w, "done in %s\n", time.Since(t).Round(time.Millisecond)) }
	}

	done := step(1, "writing a BitNet b1.58 checkpoint with random weights to "+hf)
	layout := quickstartLayout
	if err := convert.WriteDummyHF(ctx, hf, convert.DummyOptions{Layout: &layout, Seed: 1}); err != nil {
		return err
	}
	done()

	done = step(2, "converting it to I2_S: "+model)
	if err := convert.Convert(ctx, hf, model, convert.Options{Type: gguf.I2_S}); err != nil {
		return err
	}
	done()

	done = step(3, "verifying the GGUF against the float64 reference forward pass")
	rep, err := verify.Run(ctx, verify.Options{CheckpointDir: hf, ModelPath: model, Threads: threads, Prompts: verify.DefaultPrompts[:1]})
	if rep != nil {
		done()
		for _, p := range rep.Prompts {
			fmt.Fprintf(w, "      logits: %s\n", p.Logits)
			if p.GreedyMatch {
				fmt.Fprintf(w, "      greedy continuation: %d tokens identical\n", len(p.Runtime))
			} else {
				fmt.Fprintf(w, "      greedy continuation: diverges at step %d, a near tie (reference top-2 margin %.3g)\n", p.GreedyDivergence, p.GreedyMargin)
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "      lossless: every prompt within the thresholds of 'bitnet verify --help'")

	fmt.Fprintf(w, "[4/4] generating 32 tokens:\n")
	m, err := runtime.Load(model, runtime.Options{Threads: threads, Map: mapWeights, CheckTensors: checkTensors})
	if err != nil {
		return err
	}
	defer m.Close()
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		return err
	}
	prompt := "The capital of France is"
	tokens := m.Tokenizer().Encode(prompt, true, false)
	dec := m.Tokenizer().NewDecoder()
	var text strings.Builder
	st, err := runtime.Generate(ctx, seq, tokens, runtime.GenerateOptions{MaxTokens: 32, IsEOG: func(int32) bool { return false }},
		func(id int32) error {
			text.WriteString(dec.Next(id))
			return nil
		})
	if err != nil {
		return err
	}
	text.WriteString(dec.Flush())
	fmt.Fprintf(w, "      %q + %q\n", prompt, text.String())
	fmt.Fprintf(w, "      prompt %d tokens at %.1f tokens/s, generated %d tokens at %.1f tokens/s (%d threads)\n",
		st.PromptTokens, st.PromptRate(), st.Generated, st.GenerateRate(), m.Threads())

	fmt.Fprintf(w, "\nAll done in %s; files are in %s\n", time.Since(start).Round(time.Millisecond), abs)
	fmt.Fprint(w, `
The same with a real model from the Hugging Face Hub:
  bitnet download microsoft/bitnet-b1.58-2B-4T-bf16
  bitnet convert "$(bitnet download microsoft/bitnet-b1.58-2B-4T-bf16)" --type i2_s -o 2B-4T.i2_s.gguf
  bitnet verify --hf "$(bitnet download microsoft/bitnet-b1.58-2B-4T-bf16)" -m 2B-4T.i2_s.gguf
  bitnet run -m 2B-4T.i2_s.gguf -p "The capital of France is" -n 32
or straight from bitnet.cpp's published GGUF:
  bitnet run --hf microsoft/bitnet-b1.58-2B-4T-gguf -p "The capital of France is"
`)
	return nil
}
