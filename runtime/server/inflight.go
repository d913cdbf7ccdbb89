package server

import "sync"

// inflight counts generation handlers so that Shutdown can wait for them.
// Unlike a sync.WaitGroup it may be entered while someone waits, and it
// refuses entries once closed.
type inflight struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{} // closed when closed and n == 0
}

func newInflight() *inflight { return &inflight{idle: make(chan struct{})} }

// enter registers a handler; false once the server is draining.
func (f *inflight) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.n++
	return true
}

func (f *inflight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.closed && f.n == 0 {
		close(f.idle)
	}
}

// close refuses new entries and returns a channel closed once the last
// handler has left.
func (f *inflight) close() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		if f.n == 0 {
			close(f.idle)
		}
	}
	return f.idle
}
