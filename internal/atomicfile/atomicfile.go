// Package atomicfile writes files so that a reader never sees a partial
// result under the final name: data goes to a temporary file in the same
// directory, which is fsynced and renamed over the destination on Commit.
//
// A writer killed before Commit (SIGKILL, power loss) leaves its temporary
// file behind. Each temporary file is locked by its writer for as long as it
// is open, so the next Create of the same destination can tell an orphan
// (lock free: its writer is gone) from a concurrent writer's file (locked),
// and removes the orphans.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
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

// tempPattern is the os.CreateTemp pattern of base's temporary files; the
// leading dot keeps them out of plain directory listings.
func tempPattern(base string) string { return "." + base + ".tmp-*" }

// Create starts an atomic write of path. The temporary file lives in the
// destination's directory so the final rename never crosses filesystems.
// Orphaned temporary files of the same destination are removed first.
// Errors name path, never the temporary file, which the caller did not
// choose.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	RemoveStale(path)
	for range 3 {
		tmp, err := os.CreateTemp(dir, tempPattern(base))
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return nil, &fs.PathError{Op: "create", Path: path, Err: pe.Err}
			}
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		if err := lockFile(tmp); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("create %s: locking the temporary file: %w", path, err)
		}
		// Another process's RemoveStale may have taken our file for an
		// orphan between its creation and our lock; start again if so.
		if same(tmp) {
			return &File{File: tmp, path: path}, nil
		}
		tmp.Close()
	}
	return nil, fmt.Errorf("create %s: the temporary file keeps disappearing", path)
}

// same reports whether f is still the file at its name.
func same(f *os.File) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(f.Name())
	return err == nil && os.SameFile(a, b)
}

// RemoveStale removes the temporary files that writers of path which died
// before Commit or Abort left behind, and returns how many it removed. A
// temporary file still locked by a running writer is kept. On platforms
// without file locks it removes nothing.
func RemoveStale(path string) int {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	matches, _ := filepath.Glob(filepath.Join(dir, tempPattern(base)))
	n := 0
	for _, m := range matches {
		if removeIfOrphan(m) {
			n++
		}
	}
	return n
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
	if err := finish(f.File, f.path); err != nil {
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
	// Remove while still holding the lock, so that no sweeper sees it free.
	os.Remove(f.File.Name())
	f.File.Close()
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
