//go:build unix

package atomicfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive advisory lock on f, held until f is closed
// (the kernel drops it when the process dies, however it dies).
func lockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
}

// removeIfOrphan removes the temporary file at name if no process holds its
// lock. It removes the file while holding the lock itself, so a writer can
// never lose a file it is still writing.
func removeIfOrphan(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // a live writer holds it
	}
	return os.Remove(name) == nil
}

// finish renames the temporary file into place, then closes it: the lock
// must be held until the rename, or a sweeper could remove the file between
// the close and the rename.
func finish(f *os.File, path string) error {
	if err := os.Rename(f.Name(), path); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
