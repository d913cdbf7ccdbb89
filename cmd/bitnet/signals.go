package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// interruptible runs fn with a context that a stop signal cancels, so that
// convert, dummy and download unwind through their deferred clean-ups
// (temporary files are removed; a download's partial file is kept to
// resume) instead of dying mid-write. A second signal kills at once, as
// usual: the next run removes what that leaves behind. An interrupted run
// exits with 128+signal, as shells report it.
func interruptible(cmd *cobra.Command, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(cmdContext(cmd))
	defer cancel(nil)
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, stopSignals...)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case sig := <-sigc:
			// Restore the default action so that a second signal kills.
			signal.Stop(sigc)
			cancel(signalError{sig})
		case <-done:
			signal.Stop(sigc)
		}
	}()
	err := fn(ctx)
	if se, ok := context.Cause(ctx).(signalError); ok && err != nil {
		code := 130
		if s, ok := se.sig.(syscall.Signal); ok {
			code = 128 + int(s)
		}
		return exitError{code: code, err: se}
	}
	return err
}

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string {
	return fmt.Sprintf("interrupted (%v); nothing was left half-written", e.sig)
}
