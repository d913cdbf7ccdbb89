//go:build !unix

package hub

import (
	"context"
	"sync"
)

func isQuota(error) bool { return false }

var (
	locksMu sync.Mutex
	locks   = map[string]*sync.Mutex{}
)

// lockFile serialises writers inside this process only: there is no flock
// here, so a concurrent Python process is not excluded.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	locksMu.Lock()
	m := locks[path]
	if m == nil {
		m = new(sync.Mutex)
		locks[path] = m
	}
	locksMu.Unlock()
	m.Lock()
	return m.Unlock, nil
}
