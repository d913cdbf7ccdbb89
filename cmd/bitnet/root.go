package main

import (
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/bitnet-go/bitnet/kernels"

	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); otherwise
// it falls back to the module version recorded by the Go toolchain.
var version = ""

// subcommands is filled by the init functions of the command files, one
// file per command, so that adding a command never touches this file.
var subcommands []func() *cobra.Command

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// mapWeights is the --mmap flag: runtime.Options.Map for every command that
// loads a model.
var mapWeights bool

// checkTensors is the --check-tensors flag: runtime.Options.CheckTensors
// for every command that loads a model.
var checkTensors bool

func newRootCmd() *cobra.Command {
	var (
		verbose    bool
		cpuProfile string
		kernelPath string
	)
	root := &cobra.Command{
		Use:   "bitnet",
		Short: "Toolchain and runtime for ternary (1.58-bit) LLMs",
		Long: `bitnet downloads, converts, verifies and runs ternary ("1.58-bit") LLMs such as
BitNet b1.58, reading and writing GGUF files compatible with bitnet.cpp.`,
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			if kernelPath != "" {
				if err := kernels.UsePath(kernelPath); err != nil {
					return fmt.Errorf("--kernel-path: %w", err)
				}
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				stopProfile = stop
			}
			return nil
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug details to stderr")
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `FILE` (go tool pprof)")
	root.PersistentFlags().StringVar(&kernelPath, "kernel-path", "", "run the kernels of one `PATH`: generic (the pure-Go references), portable (the pure-Go fast path), or an assembly tier of this CPU (avx2, avx512vnni; neon, dotprod, i8mm); default the fastest, here "+kernels.DefaultPath()+" (of "+strings.Join(kernels.AvailablePaths(), ", ")+")")
	root.PersistentFlags().BoolVar(&mapWeights, "mmap", false, "map the model file instead of reading it into memory (loads at once; decodes slower; the default on non-Linux systems and for files larger than free memory)")
	root.PersistentFlags().BoolVar(&checkTensors, "check-tensors", false, "scan the model's F32/F16/BF16 matrices for NaN and Inf at load (norms and I2_S scales are always checked)")
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}
