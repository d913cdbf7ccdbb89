package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newConvertCmd) }

func newConvertCmd() *cobra.Command {
	var (
		outPath, typeName, embedName, archName, name, pre string
		workers                                           int
		budgetMiB                                         int64
		quiet                                             bool
	)
	cmd := &cobra.Command{
		Use:   "convert CHECKPOINT_DIR",
		Short: "Convert a Hugging Face ternary checkpoint to GGUF",
		Long: `convert reads a Hugging Face checkpoint directory (config.json, safetensors weights,
single or sharded, and tokenizer.json or tokenizer.model) and writes a GGUF that
bitnet.cpp and bitnet run.

Supported: BitNetForCausalLM (BitNet b1.58 2B-4T, relu2 → bitnet-b1.58),
BitnetForCausalLM (1bitLLM, silu → bitnet) and LlamaForCausalLM with
quantization_config.quant_method = bitnet (Llama3-8B-1.58, Falcon3-1.58bit → llama),
from bf16/f16/f32 masters (absmean ternarization) or packed uint8 + weight_scale.

Projections are stored as --type (i2_s, the layout of published bitnet.cpp GGUFs;
tl1/tl2 lookup-table layouts; or f16/f32), the token embedding as --embed-type.
Tensors are converted in parallel within --memory-budget; the output appears only
when complete.`,
		Example: `  bitnet convert ./bitnet-b1.58-2B-4T-bf16 -o 2B-4T.i2_s.gguf
  bitnet convert ./Llama3-8B-1.58-100B-tokens --type tl2 --embed-type q6_k`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			typ, err := convert.ParseType(typeName)
			if err != nil {
				return err
			}
			etyp, err := convert.ParseEmbedType(embedName)
			if err != nil {
				return err
			}
			src := args[0]
			if outPath == "" {
				outPath = convert.ModelName(src) + "." + strings.ToLower(typ.String()) + ".gguf"
			}
			bar := newProgressBar(cmd.ErrOrStderr(), "converting", quiet)
			start := time.Now()
			err = interruptible(cmd, func(ctx context.Context) error {
				return convert.Convert(ctx, src, outPath, convert.Options{
					Type:         typ,
					EmbedType:    etyp,
					ArchName:     archName,
					Name:         name,
					TokenizerPre: pre,
					Workers:      workers,
					MemoryBudget: budgetMiB << 20,
					Progress:     bar.update,
				})
			})
			bar.finish()
			if err != nil {
				return err
			}
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%s) in %s\n", outPath, fileSize(outPath), time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&outPath, "output", "o", "", "output GGUF path (default: <model name>.<type>.gguf)")
	f.StringVar(&typeName, "type", "i2_s", "projection type: i2_s, tl1, tl2, f16 or f32")
	f.StringVar(&embedName, "embed-type", "", "token embedding type: f16, q8_0, q6_k or f32 (default f32 for --type f32, else f16)")
	f.StringVar(&archName, "arch-name", "", "override general.architecture (e.g. bitnet-25 for older runtimes)")
	f.StringVar(&name, "name", "", "general.name (default: the checkpoint directory's or cached repository's name)")
	f.StringVar(&pre, "tokenizer-pre", "", "BPE pre-tokenizer name when it cannot be recognised (llama-bpe, falcon3, ...)")
	f.IntVar(&workers, "workers", 0, "tensors converted in parallel (default: number of CPUs)")
	f.Int64Var(&budgetMiB, "memory-budget", convert.DefaultMemoryBudget>>20, "MiB of tensors in flight")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return humanBytes(uint64(st.Size()))
}

// progressBar draws a one-line bar on a terminal, and nothing when stderr
// is redirected (logs should not fill with carriage returns).
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	tty   bool
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, label string, quiet bool) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, label: label, tty: tty, start: time.Now()}
}

func (p *progressBar) update(done, total int64) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	fill := int(frac * width)
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r%s [%s%s] %5.1f%% %s/%s %s/s ", p.label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), 100*frac,
		humanBytes(uint64(done)), humanBytes(uint64(total)), humanBytes(uint64(rate)))
	p.drawn = true
}

func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
