//go:build !unix

package gguf

import (
	"fmt"
	"os"
)

// Open reads and parses a GGUF file. Platforms without mmap support in
// golang.org/x/sys/unix read the whole file into memory.
func Open(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read is Open: without mmap the file is read into memory either way.
func Read(path string) (*File, error) { return Open(path) }
