// Package atomicfile writes files so that a reader never sees a partial
// result under the final name: data goes to a temporary file in the same
// directory, which is fsynced and renamed over the destination on Commit.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is a pending atomic write. Exactly one of Commit or Abort must be
// called; Abort after Commit is a no-op, so `defer f.Abort()` is safe.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts an atomic write of path. The temporary file lives in the
// destination's directory so the final rename never crosses filesystems.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &File{File: tmp, path: path}, nil
}

// Commit flushes the data to stable storage and renames the temporary file
// to the destination, then syncs the directory so the rename itself is durable.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.File.Name())
		return fmt.Errorf("sync %s: %w", f.path, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("close %s: %w", f.path, err)
	}
	if err := os.Rename(f.File.Name(), f.path); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	syncDir(filepath.Dir(f.path))
	return nil
}

// Abort discards the temporary file. It is a no-op after Commit.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// WriteFile is os.WriteFile made atomic.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	return f.Commit()
}

// syncDir makes a completed rename durable. Errors are ignored: some
// platforms and filesystems cannot fsync a directory, and the data itself
// is already on disk.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
