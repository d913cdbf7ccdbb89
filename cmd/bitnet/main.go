// Command bitnet is a toolchain and runtime for ternary (1.58-bit) LLMs:
// it downloads Hugging Face checkpoints, converts them to GGUF in
// bitnet.cpp's I2_S/TL1/TL2 layouts, verifies conversions, and runs them.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	err := newRootCmd().Execute()
	stopProfile()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "bitnet:", ee.err)
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "bitnet:", err)
		os.Exit(1)
	}
}

// stopProfile ends the --cpuprofile profile, if one was started.
var stopProfile = func() {}

// startCPUProfile starts a pprof CPU profile into path; stop ends and
// closes it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// exitError carries a specific exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }
