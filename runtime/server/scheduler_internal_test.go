package server

import (
	"context"
	"errors"
	"testing"
)

// slotsOnly is an Engine with n slots whose other methods are never
// reached: submit only looks at slots and the queue.
type slotsOnly struct {
	Engine
	n int
}

func (e slotsOnly) Slots() int         { return e.n }
func (e slotsOnly) ContextLength() int { return 256 }

// Requests that arrive before the loop's next turn are not waiting when
// slots are free for them: CI once saw the second of two requests on an idle
// one-slot server refused with a queue of one, because the loop had not yet
// moved the first into its slot.
func TestSubmitCountsFreeSlots(t *testing.T) {
	tests := []struct {
		slots, queueLen, busy, submits int
		wantFull                       bool
	}{
		{slots: 1, queueLen: 1, busy: 0, submits: 2},
		{slots: 1, queueLen: 1, busy: 0, submits: 3, wantFull: true},
		{slots: 1, queueLen: 1, busy: 1, submits: 1},
		{slots: 1, queueLen: 1, busy: 1, submits: 2, wantFull: true},
		{slots: 4, queueLen: 0, busy: 2, submits: 2},
		{slots: 4, queueLen: 0, busy: 2, submits: 3, wantFull: true},
		{slots: 2, queueLen: 2, busy: 0, submits: 4},
		{slots: 2, queueLen: 2, busy: 0, submits: 5, wantFull: true},
	}
	for _, tt := range tests {
		s := newScheduler(slotsOnly{n: tt.slots}, Config{QueueLength: tt.queueLen})
		s.nActive.Store(int32(tt.busy))
		var err error
		for range tt.submits {
			if err = s.submit(&job{ctx: context.Background()}); err != nil {
				break
			}
		}
		if got := errors.Is(err, errQueueFull); got != tt.wantFull {
			t.Errorf("%d slots (%d busy), queue %d, %d submits: queue full %v, want %v (err %v)",
				tt.slots, tt.busy, tt.queueLen, tt.submits, got, tt.wantFull, err)
		}
	}
}
