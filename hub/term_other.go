//go:build !linux

package hub

import "os"

// isTerminal approximates "is a terminal" by "is a character device",
// which is what a console is on every platform.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
