//go:build unix

package convert

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapping is a read-only view of a whole file.
type mapping struct {
	data  []byte
	unmap func() error
}

// mapFile memory-maps path read-only. Weights are read straight from the
// page cache this way, and pages we are done with can be dropped from our
// resident set (release), which is what keeps converting a model much bigger
// than RAM cheap.
func mapFile(path string) (*mapping, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	size := st.Size()
	if size == 0 {
		return &mapping{unmap: func() error { return nil }}, nil
	}
	if int64(int(size)) != size {
		return nil, fmt.Errorf("%s: file of %d bytes cannot be mapped", path, size)
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	return &mapping{data: b, unmap: func() error { return unix.Munmap(b) }}, nil
}

var pageSize = os.Getpagesize()

// release tells the kernel we no longer need data[off:off+n] resident. For a
// read-only file mapping this only drops our page-table entries (the page
// cache keeps the data), so reading the range again later is still correct.
func (m *mapping) release(off, n int) {
	if n <= 0 || off < 0 || off >= len(m.data) {
		return
	}
	start := off &^ (pageSize - 1)
	end := min(off+n, len(m.data))
	// Only whole pages can be dropped; a partial last page is kept unless it
	// is the end of the file.
	if end != len(m.data) {
		end &^= pageSize - 1
	}
	if end <= start {
		return
	}
	_ = unix.Madvise(m.data[start:end], unix.MADV_DONTNEED)
}

func (m *mapping) close() error {
	if m.unmap == nil {
		return nil
	}
	err := m.unmap()
	m.unmap = nil
	m.data = nil
	return err
}
