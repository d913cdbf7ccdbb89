//go:build !unix

package atomicfile

import (
	"fmt"
	"os"
)

// lockFile is a no-op where flock is unavailable; RemoveStale then keeps
// every temporary file, since it cannot tell an orphan from a live one.
func lockFile(*os.File) error { return nil }

func removeIfOrphan(string) bool { return false }

// finish closes, then renames: some platforms cannot rename an open file.
func finish(f *os.File, path string) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
