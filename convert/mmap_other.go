//go:build !unix

package convert

import "os"

// mapping is a read-only view of a whole file. Without mmap support the
// file is read into memory.
type mapping struct {
	data []byte
}

func mapFile(path string) (*mapping, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &mapping{data: b}, nil
}

// release is a no-op: memory read with os.ReadFile is freed with the mapping.
func (m *mapping) release(off, n int) {}

func (m *mapping) close() error {
	m.data = nil
	return nil
}
