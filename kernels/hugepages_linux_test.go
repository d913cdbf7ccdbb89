package kernels

import (
	"testing"

	"golang.org/x/sys/unix"
)

// benchBytes returns n zeroed bytes for benchmark weights, in anonymous
// memory advised to use transparent huge pages as the runtime loads models
// (gguf.Read): with 4 KiB pages the Go heap streams from DRAM a third
// slower on the machines measured, which would hide the kernels' own rate.
func benchBytes(b *testing.B, n int) []byte {
	b.Helper()
	m, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		b.Fatalf("mmap %d bytes: %v", n, err)
	}
	_ = unix.Madvise(m, unix.MADV_HUGEPAGE)
	b.Cleanup(func() { _ = unix.Munmap(m) })
	return m
}
