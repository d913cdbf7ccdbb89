package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newDummyCmd) }

func newDummyCmd() *cobra.Command {
	var (
		size, outPath, typeName, embedName, hfDir string
		seed                                      uint64
		packed, quiet                             bool
		shardMiB, budgetMiB                       int64
		workers, vocab                            int
	)
	cmd := &cobra.Command{
		Use:   "dummy --size SIZE",
		Short: "Write a model with random ternary weights, for tests and benchmarks",
		Long: `dummy writes a model of a chosen size with random (seeded) ternary weights and a
small built-in byte-level BPE tokenizer (512 tokens) of the model's family:
Falcon3's pre-tokenizer, special tokens and chat format for falcon3-*, Llama 3's
for the others. It writes:

  - by default a ready-to-run GGUF (--type as for convert), streamed tensor by
    tensor, so even --size 100B needs little memory, only disk;
  - with --hf DIR, a Hugging Face checkpoint instead (config.json, bf16 safetensors
    weights, tokenizer.json) that "bitnet convert" accepts; --packed stores the
    projections as packed uint8 + weight_scale, --shard-size splits the weights.

Sizes: ` + strings.Join(convert.Layouts(), ", ") + `.
The numbered sizes are bitnet.cpp's benchmark layouts; the others are the shapes
of real models (2B-4T = BitNet b1.58 2B-4T, large/3B = 1bitLLM, llama3-8B,
falcon3-*).`,
		Example: `  bitnet dummy --size 2B-4T -o 2B-4T-dummy.gguf
  bitnet dummy --size 100B --type i2_s -o /data/100B.gguf
  bitnet dummy --size 2B-4T --hf ./dummy-2B-4T && bitnet convert ./dummy-2B-4T`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if size == "" {
				return errors.New("--size is required (one of " + strings.Join(convert.Layouts(), ", ") + ")")
			}
			typ, err := convert.ParseType(typeName)
			if err != nil {
				return err
			}
			etyp, err := convert.ParseEmbedType(embedName)
			if err != nil {
				return err
			}
			opts := convert.DummyOptions{
				Size: size, Type: typ, EmbedType: etyp, Seed: seed,
				Packed: packed, MaxShardBytes: shardMiB << 20,
				Workers: workers, MemoryBudget: budgetMiB << 20,
			}
			if vocab != 0 {
				// A vocabulary cut to the built-in tokenizer's 512 tokens makes
				// every sampled token text or end-of-generation, so a server's
				// replies are visible instead of mostly padding rows that
				// decode to nothing (test/openai, the load test).
				if vocab < 0 {
					return fmt.Errorf("--vocab must be positive, got %d", vocab)
				}
				l, err := convert.LookupLayout(size)
				if err != nil {
					return err
				}
				l.Vocab = vocab
				opts.Size, opts.Layout = "", &l
			}
			stderr := cmd.ErrOrStderr()
			start := time.Now()
			if hfDir != "" {
				if outPath != "" {
					return errors.New("--hf and --output are exclusive: --hf names the checkpoint directory")
				}
				bar := newProgressBar(stderr, "writing", quiet)
				opts.Progress = bar.update
				err := interruptible(cmd, func(ctx context.Context) error { return convert.WriteDummyHF(ctx, hfDir, opts) })
				bar.finish()
				if err != nil {
					return err
				}
				if !quiet {
					fmt.Fprintf(stderr, "wrote checkpoint %s in %s\n", hfDir, time.Since(start).Round(time.Millisecond))
				}
				return nil
			}
			if outPath == "" {
				outPath = "dummy-" + size + "." + strings.ToLower(typ.String()) + ".gguf"
			}
			bar := newProgressBar(stderr, "writing", quiet)
			opts.Progress = bar.update
			err = interruptible(cmd, func(ctx context.Context) error { return convert.WriteDummyGGUF(ctx, outPath, opts) })
			bar.finish()
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(stderr, "wrote %s (%s) in %s\n", outPath, fileSize(outPath), time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&size, "size", "", "model layout: "+strings.Join(convert.Layouts(), ", "))
	f.StringVarP(&outPath, "output", "o", "", "output GGUF path (default: dummy-<size>.<type>.gguf)")
	f.StringVar(&typeName, "type", "i2_s", "projection type: i2_s, tl1, tl2, f16 or f32")
	f.StringVar(&embedName, "embed-type", "", "token embedding type: f16, q8_0, q6_k or f32")
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same weights")
	f.StringVar(&hfDir, "hf", "", "write a Hugging Face checkpoint into this directory instead of a GGUF")
	f.BoolVar(&packed, "packed", false, "with --hf: packed uint8 + weight_scale projections instead of bf16 masters")
	f.Int64Var(&shardMiB, "shard-size", 0, "with --hf: split the weights into shards of at most this many MiB")
	f.IntVar(&workers, "workers", 0, "tensors generated in parallel (default: number of CPUs)")
	f.IntVar(&vocab, "vocab", 0, "vocabulary rows instead of the layout's (the built-in tokenizer has 512; more are padding)")
	f.Int64Var(&budgetMiB, "memory-budget", convert.DefaultMemoryBudget>>20, "MiB of tensors in flight")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}
