//go:build unix

package gguf

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Open memory-maps and parses a GGUF file. Tensor data stay in the map, so
// opening a multi-gigabyte model costs only page-table entries; Close unmaps.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < 8 {
		return nil, fmt.Errorf("%s: %w", path, &FormatError{Offset: size, Field: "header", Err: ErrTruncated})
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: file of %d bytes cannot be mapped", path, size)
	}
	b, err := unix.Mmap(int(fh.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	f, err := Parse(b)
	if err != nil {
		unix.Munmap(b)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.unmap = func() error { return unix.Munmap(b) }
	return f, nil
}
