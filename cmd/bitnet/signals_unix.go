//go:build unix

package main

import (
	"os"
	"syscall"
)

// stopSignals are the signals that end a command which writes files:
// Ctrl-C, a service manager's stop, a closed terminal.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}
