package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/internal/atomicfile"
	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/spf13/cobra"
)

func init() {
	subcommands = append(subcommands, newRunCmd)
	rewriteSingleDashCnv()
}

// rewriteSingleDashCnv lets bitnet.cpp's "-cnv" (a multi-letter flag with a
// single dash, which cobra would read as -c nv) through as "--cnv".
func rewriteSingleDashCnv() {
	for i, a := range os.Args {
		if a == "-cnv" {
			os.Args[i] = "--cnv"
		}
	}
}

// genFlags are the model, context and sampling flags that run and chat share,
// spelled as llama-cli spells them.
type genFlags struct {
	model    string
	hfRepo   string // --hf: a Hub repository resolved to a GGUF (see resolveHFModel)
	hfFile   string
	threads  int
	ctx      int
	batch    int
	nPredict int
	sampler  runtime.SamplerConfig
	// chatTemplate is --chat-template: a built-in format or a template
	// file replacing the model's tokenizer.chat_template.
	chatTemplate string
	// overrides is --override-kv, parsed by resolve.
	overrideKV []string
	overrides  []gguf.KV
}

// chatTemplateUsage documents --chat-template for run, chat and serve.
var chatTemplateUsage = "chat template instead of the model's: a built-in format (" + strings.Join(chat.Names(), ", ") +
	") or a file (Jinja, or a tokenizer_config.json)"

func (g *genFlags) register(cmd *cobra.Command, seedShort string) {
	f := cmd.Flags()
	d := runtime.DefaultSamplerConfig()
	f.StringVarP(&g.model, "model", "m", "", "GGUF model file (or --hf)")
	f.StringVar(&g.hfRepo, "hf", "", "Hugging Face repository: a GGUF repo, or a checkpoint converted once into the cache")
	f.StringVar(&g.hfFile, "hf-file", "", "with --hf: glob choosing the .gguf in a GGUF repository (default: the i2_s one)")
	f.IntVarP(&g.threads, "threads", "t", 0, "threads of the matmuls (default: one per CPU)")
	f.IntVarP(&g.ctx, "ctx-size", "c", 0, "context length in tokens (default: the model's)")
	f.IntVarP(&g.batch, "batch-size", "b", runtime.DefaultBatchSize, "most prompt tokens per forward pass")
	f.IntVarP(&g.nPredict, "n-predict", "n", -1, "most tokens to generate (-1: until end of text or a full context)")
	f.Float32Var(&g.sampler.Temp, "temp", d.Temp, "temperature (0: greedy)")
	f.IntVar(&g.sampler.TopK, "top-k", d.TopK, "keep the K most likely tokens (0: all)")
	f.Float32Var(&g.sampler.TopP, "top-p", d.TopP, "nucleus sampling threshold (1: off)")
	f.Float32Var(&g.sampler.MinP, "min-p", d.MinP, "drop tokens less likely than this times the best (0: off)")
	f.Float32Var(&g.sampler.RepeatPenalty, "repeat-penalty", d.RepeatPenalty, "penalty on recently seen tokens (1: off)")
	f.IntVar(&g.sampler.RepeatLastN, "repeat-last-n", d.RepeatLastN, "tokens the repeat penalty looks back on (-1: all)")
	f.Int64VarP(&g.sampler.Seed, "seed", seedShort, d.Seed, "random seed (-1: random)")
	f.StringVar(&g.chatTemplate, "chat-template", "", chatTemplateUsage)
	f.StringArrayVar(&g.overrideKV, "override-kv", nil, overrideKVUsage)
	cmd.MarkFlagsOneRequired("model", "hf")
	cmd.MarkFlagsMutuallyExclusive("model", "hf")
}

// overrideKVUsage documents --override-kv wherever a model is loaded.
const overrideKVUsage = "KEY=TYPE:VALUE (TYPE int, float, bool or str): replace or add a metadata key of the model, as llama.cpp (repeatable)"

// parseOverrides parses --override-kv arguments.
func parseOverrides(args []string) ([]gguf.KV, error) {
	var kvs []gguf.KV
	for _, a := range args {
		kv, err := gguf.ParseOverride(a)
		if err != nil {
			return nil, fmt.Errorf("--override-kv: %w", err)
		}
		kvs = append(kvs, kv)
	}
	return kvs, nil
}

// resolve parses --override-kv and turns --hf into a local GGUF path in
// g.model.
func (g *genFlags) resolve(cmd *cobra.Command) error {
	var err error
	if g.overrides, err = parseOverrides(g.overrideKV); err != nil {
		return err
	}
	if g.hfRepo == "" {
		return nil
	}
	p, err := resolveHFModel(cmd, g.hfRepo, "", g.hfFile, "i2_s")
	if err != nil {
		return err
	}
	g.model = p
	return nil
}

// load loads the model with the flags' options and checks it can do text;
// progress goes to log.
func (g *genFlags) load(log io.Writer) (*runtime.Model, error) {
	start := time.Now()
	m, err := runtime.Load(g.model, runtime.Options{Threads: g.threads, Context: g.ctx, BatchSize: g.batch, Map: mapWeights, CheckTensors: checkTensors, Overrides: g.overrides})
	if err != nil {
		return nil, err
	}
	if m.Tokenizer() == nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", g.model, runtime.ErrNoTokenizer)
	}
	fmt.Fprintf(log, "loaded %s (%s, %d layers, context %d, %d threads) in %v\n", g.model, m.Config().Arch, m.Config().Layers,
		m.Context(), m.Threads(), time.Since(start).Round(time.Millisecond))
	return m, nil
}

func (g *genFlags) generateOptions() runtime.GenerateOptions {
	return runtime.GenerateOptions{MaxTokens: max(g.nPredict, 0), Sampler: runtime.NewSampler(g.sampler)}
}

func newRunCmd() *cobra.Command {
	var (
		g                     genFlags
		prompt, promptFile    string
		logitsOut             string
		noDisplayPrompt, conv bool
	)
	cmd := &cobra.Command{
		Use:   "run -m FILE -p PROMPT",
		Short: "Generate text from a prompt",
		Long: `run loads a GGUF model, evaluates the prompt (with BOS as the vocabulary asks) and
streams the continuation to stdout; prompt and generation speeds go to stderr.
Flags follow llama-cli. --logits-out writes the float32 logits of every prompt
position (little endian, [n_tokens, n_vocab]) to a file and exits after the
prompt. -cnv (or --cnv) switches to an interactive chat with -p as the system
prompt, as bitnet.cpp's run_inference.py does; see also "bitnet chat".`,
		Example: `  bitnet run -m model.gguf -p "The capital of France is" -n 32
  bitnet run -m model.gguf -f prompt.txt --temp 0 -n 64
  bitnet run -m model.gguf -p "Hello" --logits-out logits.f32
  bitnet run -m model.gguf -p "You are a helpful assistant" -cnv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if conv {
				return chatLoop(cmd, &g, prompt)
			}
			if promptFile != "" {
				b, err := os.ReadFile(promptFile)
				if err != nil {
					return err
				}
				prompt = string(b)
			}
			if err := g.resolve(cmd); err != nil {
				return err
			}
			m, err := g.load(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer m.Close()
			tokens := m.Tokenizer().Encode(prompt, true, true)
			if len(tokens) == 0 {
				return errors.New("the prompt is empty and the vocabulary adds no BOS")
			}
			if len(tokens) > m.Context() {
				return fmt.Errorf("the prompt is %d tokens, longer than the context (%d; see -c)", len(tokens), m.Context())
			}
			if logitsOut != "" {
				return writePromptLogits(cmd.ErrOrStderr(), m, tokens, logitsOut)
			}
			return runGenerate(cmd, m, &g, prompt, tokens, !noDisplayPrompt)
		},
	}
	g.register(cmd, "s")
	f := cmd.Flags()
	f.StringVarP(&prompt, "prompt", "p", "", "prompt text")
	f.StringVarP(&promptFile, "file", "f", "", "read the prompt from a file")
	f.StringVar(&logitsOut, "logits-out", "", "write the logits of every prompt position to this file and exit")
	f.BoolVar(&noDisplayPrompt, "no-display-prompt", false, "do not echo the prompt before the continuation")
	f.BoolVar(&conv, "cnv", false, "interactive chat, -p being the system prompt (bitnet.cpp's -cnv)")
	cmd.MarkFlagsMutuallyExclusive("prompt", "file")
	return cmd
}

func runGenerate(cmd *cobra.Command, m *runtime.Model, g *genFlags, prompt string, tokens []int32, echo bool) error {
	ctx, stop := signal.NotifyContext(cmdContext(cmd), os.Interrupt)
	defer stop()
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		return err
	}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	if echo {
		out.WriteString(prompt)
		out.Flush()
	}
	dec := m.Tokenizer().NewDecoder()
	st, err := runtime.Generate(ctx, seq, tokens, g.generateOptions(), func(id int32) error {
		out.WriteString(dec.Next(id))
		return out.Flush()
	})
	out.WriteString(dec.Flush())
	out.WriteString("\n")
	out.Flush()
	printStats(cmd.ErrOrStderr(), st)
	if errors.Is(err, context.Canceled) {
		return exitError{code: 130, err: errors.New("interrupted")}
	}
	return err
}

func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func printStats(w io.Writer, st runtime.Stats) {
	fmt.Fprintf(w, "prompt:     %5d tokens in %9.2f ms (%8.2f tokens/s)\n", st.PromptTokens, ms(st.PromptTime), st.PromptRate())
	fmt.Fprintf(w, "generation: %5d tokens in %9.2f ms (%8.2f tokens/s), stopped: %v\n", st.Generated, ms(st.GenerateTime), st.GenerateRate(), st.Stop)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// writePromptLogits evaluates the prompt and writes the logits of every
// position, float32 little endian, row-major [len(tokens)][vocab].
func writePromptLogits(log io.Writer, m *runtime.Model, tokens []int32, path string) error {
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		return err
	}
	start := time.Now()
	logits, err := seq.PromptLogits(tokens)
	if err != nil {
		return err
	}
	d := time.Since(start)
	buf := make([]byte, 4*len(logits))
	for i, v := range logits {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	if err := atomicfile.WriteFile(path, buf, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "prompt: %d tokens in %.2f ms (%.2f tokens/s); wrote %d×%d logits to %s\n",
		len(tokens), ms(d), float64(len(tokens))/d.Seconds(), len(tokens), m.Config().Vocab, path)
	return nil
}
