//go:build !unix

package main

import (
	"os"
	"syscall"
)

// stopSignals are the signals that end a command which writes files:
// Ctrl-C (console close on Windows) and a stop request. Windows and wasm
// have no SIGHUP.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}
