package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/runtime"
	"github.com/klauspost/cpuid/v2"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newBenchCmd) }

// benchRow is one line of bitnet bench's table, like llama-bench's.
type benchRow struct {
	Model   string    `json:"model"`
	Threads int       `json:"threads"`
	Test    string    `json:"test"` // "pp128", "tg64"
	Samples []float64 `json:"samples_ts"`
	Mean    float64   `json:"avg_ts"`
	Std     float64   `json:"stddev_ts"`
	// For tg rows: bytes of weights read per token, the bandwidth that
	// implies, the measured stream bandwidth and their ratio (the roofline).
	WeightBytes   int64   `json:"weight_bytes_per_token,omitempty"`
	AchievedGBps  float64 `json:"achieved_gbps,omitempty"`
	StreamGBps    float64 `json:"stream_gbps,omitempty"`
	RooflineRatio float64 `json:"roofline_ratio,omitempty"`
	// Where it ran: the CPU model and the kernel paths in use
	// (kernels.Paths), so figures from different machines and
	// --kernel-path choices are never confused.
	CPU         string   `json:"cpu"`
	Arch        string   `json:"arch"`
	KernelPaths []string `json:"kernel_paths"`
}

func newBenchCmd() *cobra.Command {
	var (
		model          string
		nPrompt, nGen  int
		threads        []int
		reps           int
		asJSON         bool
		streamMiB      int
		kernelsVerbose bool
	)
	cmd := &cobra.Command{
		Use:   "bench -m FILE",
		Short: "Measure prompt (pp) and generation (tg) speed, llama-bench style",
		Long: `bench loads the model once per thread count and measures
  pp<N>: one forward pass over a prompt of N random tokens (prompt processing),
  tg<N>: N tokens decoded one at a time after a 1-token prompt (generation),
each repeated -r times after a warm-up, reported as tokens/s mean ± std.

Decoding reads every weight once per token, so it is bound by memory
bandwidth. For tg rows bench also reports the bytes of weights read per token
(every tensor of the file except an untied token embedding, which is only
indexed), the bandwidth that implies, a measured stream-read bandwidth with the
same threads, and their ratio: how close decoding is to its roofline. The
stream figure is the best of reading two fresh buffers of --stream-mib and
reading the model's own bytes (in memory, or mapped with --mmap), so the
ratio is never flattered by a slow measurement.
Progress goes to stderr, the table (or --json) to stdout.`,
		Example: `  bitnet dummy --size 2B-4T -o 2B-4T.gguf && bitnet bench -m 2B-4T.gguf
  bitnet bench -m model.gguf -p 128 -n 64 -t 1,2 -r 5 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			var rows []benchRow
			for _, t := range threads {
				m, err := runtime.Load(model, runtime.Options{Threads: t, BatchSize: max(nPrompt, 1), Map: mapWeights, CheckTensors: checkTensors})
				if err != nil {
					return err
				}
				if kernelsVerbose {
					fmt.Fprintf(stderr, "kernels: %s\n", strings.Join(kernels.Paths(), ", "))
				}
				pool := kernels.NewPool(m.Threads())
				stream := max(kernels.StreamBandwidth(pool, streamMiB<<20, 3), kernels.StreamRead(pool, m.File().Bytes(), 3))
				pool.Close()
				wb := weightBytesPerToken(m)
				name := m.Config().Arch
				rng := rand.New(rand.NewPCG(1, uint64(t)))
				vocab := m.Config().Vocab
				randTokens := func(n int) []int32 {
					out := make([]int32, n)
					for i := range out {
						out[i] = int32(rng.IntN(vocab))
					}
					return out
				}
				sess := m.NewSession(1)
				if nPrompt > 0 {
					fmt.Fprintf(stderr, "pp%d, %d threads: ", nPrompt, m.Threads())
					row := benchRow{Model: name, Threads: m.Threads(), Test: fmt.Sprintf("pp%d", nPrompt), CPU: cpuName(), Arch: goruntime.GOARCH, KernelPaths: kernels.Paths()}
					for r := range reps + 1 {
						seq, err := sess.NewSequence()
						if err != nil {
							return err
						}
						tokens := randTokens(nPrompt)
						start := time.Now()
						err = seq.Prompt(tokens)
						el := time.Since(start)
						seq.Close()
						if err != nil {
							return err
						}
						if r > 0 { // the first run warms caches and buffers
							row.Samples = append(row.Samples, float64(nPrompt)/el.Seconds())
						}
						fmt.Fprint(stderr, ".")
					}
					fmt.Fprintln(stderr)
					row.Mean, row.Std = meanStd(row.Samples)
					rows = append(rows, row)
				}
				if nGen > 0 {
					fmt.Fprintf(stderr, "tg%d, %d threads: ", nGen, m.Threads())
					row := benchRow{Model: name, Threads: m.Threads(), Test: fmt.Sprintf("tg%d", nGen), WeightBytes: wb, StreamGBps: stream / 1e9, CPU: cpuName(), Arch: goruntime.GOARCH, KernelPaths: kernels.Paths()}
					for r := range reps + 1 {
						seq, err := sess.NewSequence()
						if err != nil {
							return err
						}
						if err := seq.Prompt(randTokens(1)); err != nil {
							return err
						}
						tokens := randTokens(nGen)
						start := time.Now()
						for _, tk := range tokens {
							if err = seq.Decode(tk); err != nil {
								break
							}
						}
						el := time.Since(start)
						seq.Close()
						if err != nil {
							return err
						}
						if r > 0 {
							row.Samples = append(row.Samples, float64(nGen)/el.Seconds())
						}
						fmt.Fprint(stderr, ".")
					}
					fmt.Fprintln(stderr)
					row.Mean, row.Std = meanStd(row.Samples)
					row.AchievedGBps = row.Mean * float64(wb) / 1e9
					row.RooflineRatio = row.AchievedGBps / row.StreamGBps
					rows = append(rows, row)
				}
				m.Close()
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			fmt.Fprintf(out, "cpu: %s (%s), kernels: %s\n", cpuName(), goruntime.GOARCH, strings.Join(kernels.Paths(), ", "))
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "model\tthreads\ttest\tt/s\tweights/token\tachieved\tstream\troofline")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%.2f ± %.2f", r.Model, r.Threads, r.Test, r.Mean, r.Std)
				if r.WeightBytes > 0 {
					fmt.Fprintf(tw, "\t%s\t%.1f GB/s\t%.1f GB/s\t%.0f %%", humanBytes(uint64(r.WeightBytes)), r.AchievedGBps, r.StreamGBps, 100*r.RooflineRatio)
				} else {
					fmt.Fprint(tw, "\t\t\t\t")
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVarP(&model, "model", "m", "", "GGUF model (required)")
	f.IntVarP(&nPrompt, "n-prompt", "p", 128, "prompt tokens of the pp test (0 skips it)")
	f.IntVarP(&nGen, "n-gen", "n", 64, "generated tokens of the tg test (0 skips it)")
	f.IntSliceVarP(&threads, "threads", "t", []int{1, 2}, "thread counts to measure")
	f.IntVarP(&reps, "repetitions", "r", 5, "repetitions of each test")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.IntVar(&streamMiB, "stream-mib", 512, "MiB streamed to measure the bandwidth roofline")
	f.BoolVar(&kernelsVerbose, "kernels", false, "print the kernel paths in use")
	cmd.MarkFlagRequired("model")
	return cmd
}

// weightBytesPerToken is what decoding one token reads: every tensor except
// a token embedding that is not also the output head (it is only indexed).
func weightBytesPerToken(m *runtime.Model) int64 {
	var n int64
	f := m.File()
	_, untied := f.Tensor("output.weight")
	for _, t := range f.Tensors {
		if t.Name == "token_embd.weight" && untied {
			continue
		}
		n += int64(t.Size)
	}
	return n
}

func meanStd(x []float64) (mean, std float64) {
	if len(x) == 0 {
		return 0, 0
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) > 1 {
		for _, v := range x {
			std += (v - mean) * (v - mean)
		}
		std = math.Sqrt(std / float64(len(x)-1))
	}
	return mean, std
}

// cpuName is the CPU's model name as cpuid reports it; where it has none
// (cpuid names few arm64 cores outside macOS) the model name or the
// implementer and part numbers of Linux's /proc/cpuinfo; else cpuid's
// vendor, family and model.
func cpuName() string {
	c := cpuid.CPU
	if c.BrandName != "" {
		return c.BrandName
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if name := cpuinfoName(string(b)); name != "" {
			return name
		}
	}
	if c.VendorString != "" {
		return fmt.Sprintf("%s family %d model %d", c.VendorString, c.Family, c.Model)
	}
	return "unknown"
}

// cpuinfoName picks the first processor's name out of /proc/cpuinfo: its
// "model name", or on arm64, where Linux prints none, "CPU implementer
// 0x41 part 0xd0c" (Arm's codes: 0xd0c is Neoverse N1, 0xd40 V1, 0xd4f
// V2, 0xd0b Cortex-A76, 0xd08 A72).
func cpuinfoName(info string) string {
	var implementer, part string
	for _, line := range strings.Split(info, "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "model name":
			return value
		case "CPU implementer":
			if implementer == "" {
				implementer = value
			}
		case "CPU part":
			if part == "" {
				part = value
			}
		}
	}
	if implementer != "" && part != "" {
		return "CPU implementer " + implementer + " part " + part
	}
	return ""
}
