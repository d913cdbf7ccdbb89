package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bitnet-go/bitnet/verify"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newVerifyCmd) }

func newVerifyCmd() *cobra.Command {
	var (
		opts        verify.Options
		prompt      string
		promptsFile string
		asJSON      bool
	)
	th := verify.DefaultThresholds()
	cmd := &cobra.Command{
		Use:   "verify --hf DIR -m FILE.gguf",
		Short: "Prove a conversion lossless against a reference forward pass",
		Long: `verify runs an independent float64 reference forward pass straight from the
Hugging Face checkpoint (absmean ternary weights or packed codes with their
weight_scale meaning, per-token int8 activations, Hugging Face's graph) and the
runtime on the GGUF, on the same tokens, and reports per prompt:
top-1 agreement over all positions, max |Δlogit| relative to the logit range,
mean KL, and whether the 16-token greedy continuations match. With --layers it
also compares the hidden state after every layer and names the first that
diverges.

It exits with status 2 when the conversion is not lossless. The pass criteria
(overridable with the flags below):
  top-1 agreement ≥ 95 % (near ties of the reference count as agreement),
  max |Δlogit| ≤ 3 % of the logit range, mean KL ≤ 0.002 nats,
  greedy continuations equal except at near ties,
  with --layers: ‖Δhidden‖/‖hidden‖ ≤ 5 % after every layer.
bitnet.cpp's own I2_S logits stay within about 1-2.5 % of this reference on
the golden models; a swapped tensor or a wrong scale is off by 30 % or more.`,
		Example: `  bitnet verify --hf ./BitNet-b1.58-2B-4T-bf16 -m model-i2_s.gguf
  bitnet verify --hf ./ckpt -m model.gguf --prompts prompts.txt --layers --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case prompt != "" && promptsFile != "":
				return errors.New("give --prompt or --prompts, not both")
			case prompt != "":
				opts.Prompts = []string{prompt}
			case promptsFile != "":
				p, err := readPrompts(promptsFile)
				if err != nil {
					return err
				}
				opts.Prompts = p
			}
			opts.Thresholds = th
			rep, err := verify.Run(cmd.Context(), opts)
			if rep != nil {
				out := cmd.OutOrStdout()
				if asJSON {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					if err := enc.Encode(rep); err != nil {
						return err
					}
				} else {
					printVerifyReport(out, rep)
				}
			}
			if errors.Is(err, verify.ErrNotLossless) {
				return exitError{code: 2, err: err}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.CheckpointDir, "hf", "", "Hugging Face checkpoint directory (required)")
	f.StringVarP(&opts.ModelPath, "model", "m", "", "GGUF file converted from it (required)")
	f.StringVarP(&prompt, "prompt", "p", "", "one prompt to compare on")
	f.StringVar(&promptsFile, "prompts", "", "file of prompts, one per line (default: three built-in prompts)")
	f.IntVarP(&opts.Threads, "threads", "t", 0, "threads (default: all CPUs)")
	f.BoolVar(&opts.Layers, "layers", false, "also compare hidden states layer by layer and name the first divergent one")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.Float64Var(&th.MinTop1, "min-top1", th.MinTop1, "least top-1 agreement (fraction)")
	f.Float64Var(&th.MaxRelDiff, "max-rel-diff", th.MaxRelDiff, "largest max |Δlogit| as a fraction of the logit range")
	f.Float64Var(&th.MaxMeanKL, "max-kl", th.MaxMeanKL, "largest mean KL divergence (nats)")
	f.Float64Var(&th.LayerRelDiff, "max-layer-diff", th.LayerRelDiff, "largest relative hidden-state difference with --layers")
	cmd.MarkFlagRequired("hf")
	cmd.MarkFlagRequired("model")
	return cmd
}

func readPrompts(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var prompts []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			prompts = append(prompts, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("%s: no prompts", path)
	}
	return prompts, nil
}

func printVerifyReport(w io.Writer, rep *verify.Report) {
	fmt.Fprintf(w, "model      %s (%s, %s projections)\ncheckpoint %s\nreference  %s\n",
		rep.Model, rep.Arch, rep.WeightType, rep.Checkpoint, rep.Reference)
	for i, p := range rep.Prompts {
		status := "PASS"
		if !p.Pass {
			status = "FAIL"
		}
		text := p.Prompt
		if len(text) > 60 {
			text = text[:57] + "..."
		}
		fmt.Fprintf(w, "\nprompt %d %q (%d tokens): %s\n", i+1, text, p.Tokens, status)
		s := p.Logits
		fmt.Fprintf(w, "  top-1 agreement  %.1f%% (%.1f%% counting near ties)\n", 100*s.Top1Agreement, 100*s.Top1Decisive)
		fmt.Fprintf(w, "  max |Δlogit|     %.4g (%.2f%% of the logit range)\n", s.MaxAbsDiff, 100*s.RelMaxAbsDiff)
		fmt.Fprintf(w, "  mean KL          %.3g nats\n", s.MeanKL)
		if p.GreedyMatch {
			fmt.Fprintf(w, "  greedy %d tokens  identical\n", len(p.Runtime))
		} else {
			fmt.Fprintf(w, "  greedy %d tokens  diverge at step %d (reference margin %.3g)\n", len(p.Runtime), p.GreedyDivergence, p.GreedyMargin)
		}
		if len(p.LayerRelDiff) > 0 {
			fmt.Fprintf(w, "  hidden states   ")
			for l, d := range p.LayerRelDiff {
				fmt.Fprintf(w, " L%d %.2f%%", l, 100*d)
			}
			fmt.Fprintln(w)
		}
		for _, f := range p.Failures {
			fmt.Fprintf(w, "  ✗ %s\n", f)
		}
	}
	verdict := "LOSSLESS: every prompt within the thresholds"
	if !rep.Pass {
		verdict = "NOT LOSSLESS"
	}
	fmt.Fprintf(w, "\n%s\n", verdict)
}
