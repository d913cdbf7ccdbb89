//go:build !linux

package kernels

import "testing"

// benchBytes returns n zeroed bytes for benchmark weights (the Go heap
// where huge pages cannot be requested).
func benchBytes(_ *testing.B, n int) []byte { return make([]byte, n) }
