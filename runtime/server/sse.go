package server

import (
	"encoding/json"
	"net/http"
	"time"
)

// sseWriter writes server-sent events, flushing each one, with a deadline
// per write so that a client that stops reading is dropped rather than
// holding its handler forever.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	buf     []byte
}

func newSSEWriter(w http.ResponseWriter, timeout time.Duration) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // ask reverse proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)
	return &sseWriter{w: w, rc: http.NewResponseController(w), timeout: timeout}
}

// event writes v as one "data:" event.
func (s *sseWriter) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.raw(b)
}

// done writes the stream's terminator.
func (s *sseWriter) done() error { return s.raw([]byte("[DONE]")) }

func (s *sseWriter) raw(data []byte) error {
	s.buf = append(append(append(s.buf[:0], "data: "...), data...), "\n\n"...)
	// Not every ResponseWriter supports deadlines (httptest's recorder does
	// not); the write itself still works there.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.w.Write(s.buf); err != nil {
		return err
	}
	return s.rc.Flush()
}
