package runtime

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrNoFreeSlot is returned by NewSequence when every slot of the Session
// holds a sequence.
var ErrNoFreeSlot = errors.New("no free sequence slot")

// Session evaluates tokens of up to Seqs() independent sequences against
// one model: it owns their KV cache and the scratch memory of the forward
// pass. Its methods serialize on an internal lock, so a Session may be
// shared between goroutines; forward passes of different Sessions of one
// Model run concurrently but share the Model's worker pool.
type Session struct {
	mu    sync.Mutex
	m     *Model
	cache *Cache
	st    *state
	used  []bool
	batch Batch
}

// NewSession creates a Session with seqs sequence slots (at least 1).
// Cache memory is allocated as the sequences grow.
func (m *Model) NewSession(seqs int) *Session {
	seqs = max(seqs, 1)
	c := newCache(&m.cfg, m.opts.Context, seqs)
	return &Session{m: m, cache: c, st: newState(m, c), used: make([]bool, seqs)}
}

// Model is the model the Session runs.
func (s *Session) Model() *Model { return s.m }

// Cache gives the KV cache, for callers that manage slots through Forward.
func (s *Session) Cache() *Cache { return s.cache }

// Forward evaluates a batch whose tokens name their cache slots directly
// (see Batch) and returns the logits of the tokens the batch asks for,
// row-major [rows][Vocab], valid until the next call. It is the low-level
// form of Sequence.Prompt and Session.Decode, which keep track of slots and
// token histories themselves; do not use it on slots held by a Sequence.
func (s *Session) Forward(b *Batch) ([]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.forward(b)
}

// NewSequence takes a free slot for a new, empty sequence.
func (s *Session) NewSequence() (*Sequence, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range s.used {
		if !u {
			s.used[i] = true
			s.cache.Free(i)
			return &Sequence{s: s, id: i}, nil
		}
	}
	return nil, fmt.Errorf("%w (session has %d)", ErrNoFreeSlot, len(s.used))
}

// Sequence is one sequence of a Session: a slot of its KV cache, the tokens
// evaluated so far, and the logits after the last of them.
type Sequence struct {
	s      *Session
	id     int
	tokens []int32
	logits []float32
	closed bool
}

// ID is the sequence's cache slot.
func (q *Sequence) ID() int { return q.id }

// Len is the number of tokens evaluated (the positions used in the cache).
func (q *Sequence) Len() int { return len(q.tokens) }

// Tokens returns the tokens evaluated so far (do not modify).
func (q *Sequence) Tokens() []int32 { return q.tokens }

// Logits returns the logits predicting the token after the last one
// evaluated (nil before any), valid until the sequence is advanced again.
func (q *Sequence) Logits() []float32 { return q.logits }

// Room is the number of tokens the sequence can still take.
func (q *Sequence) Room() int { return q.s.cache.ctx - len(q.tokens) }

// Prompt evaluates tokens, in forward passes of at most Options.BatchSize
// tokens, and keeps the logits after the last one.
func (q *Sequence) Prompt(tokens []int32) error {
	_, err := q.eval(tokens, false)
	return err
}

// PromptLogits is Prompt returning the logits after every token, row-major
// [len(tokens)][Vocab] (the caller owns the slice).
func (q *Sequence) PromptLogits(tokens []int32) ([]float32, error) {
	return q.eval(tokens, true)
}

// Decode evaluates one token (typically the one just sampled).
func (q *Sequence) Decode(token int32) error {
	_, err := q.eval([]int32{token}, false)
	return err
}

func (q *Sequence) eval(tokens []int32, all bool) ([]float32, error) {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.closed {
		return nil, errors.New("sequence is closed")
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	if n := len(q.tokens) + len(tokens); n > s.cache.ctx {
		return nil, fmt.Errorf("%w: %d tokens do not fit a context of %d", ErrContextFull, n, s.cache.ctx)
	}
	vocab := s.m.cfg.Vocab
	var out []float32
	if all {
		out = make([]float32, 0, len(tokens)*vocab)
	}
	bs := s.m.opts.BatchSize
	for start := 0; start < len(tokens); start += bs {
		chunk := tokens[start:min(start+bs, len(tokens))]
		b := &s.batch
		b.Reset()
		b.Logits = b.Logits[:0]
		for i, t := range chunk {
			b.Tokens = append(b.Tokens, t)
			b.Seqs = append(b.Seqs, q.id)
			b.Logits = append(b.Logits, all || (start+i == len(tokens)-1))
		}
		logits, err := s.st.forward(b)
		if err != nil {
			return nil, err
		}
		q.tokens = append(q.tokens, chunk...)
		if all {
			out = append(out, logits...)
		}
		if start+len(chunk) == len(tokens) {
			q.logits = append(q.logits[:0], logits[len(logits)-vocab:]...)
		}
	}
	return out, nil
}

// Truncate rewinds the sequence to its first n tokens (to reuse a common
// prefix). The logits are dropped: evaluate at least one token before
// sampling again.
func (q *Sequence) Truncate(n int) error {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == len(q.tokens) {
		return nil
	}
	if err := s.cache.Truncate(q.id, n); err != nil {
		return err
	}
	q.tokens = q.tokens[:n]
	q.logits = q.logits[:0]
	return nil
}

// Close frees the sequence's slot for reuse.
func (q *Sequence) Close() {
	s := q.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	s.cache.Free(q.id)
	s.used[q.id] = false
}

// Decode advances several sequences of this Session in one forward pass:
// seqs[i] evaluates tokens[i] (any number, in order). Each sequence keeps
// the logits after its last token. This is how a server batches requests:
// prompts of new requests and single sampled tokens of running ones can
// share a pass. Batches longer than Options.BatchSize are split.
func (s *Session) Decode(seqs []*Sequence, tokens [][]int32) error {
	if len(seqs) != len(tokens) {
		return fmt.Errorf("Decode: %d sequences, %d token lists", len(seqs), len(tokens))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range seqs {
		if q.s != s || q.closed {
			return fmt.Errorf("Decode: sequence %d is closed or belongs to another session", i)
		}
		if slices.Index(seqs, q) != i {
			return fmt.Errorf("Decode: sequence %d appears twice", q.id)
		}
		if n := len(q.tokens) + len(tokens[i]); n > s.cache.ctx {
			return fmt.Errorf("sequence %d: %w: %d tokens do not fit a context of %d", q.id, ErrContextFull, n, s.cache.ctx)
		}
	}
	vocab := s.m.cfg.Vocab
	next := make([]int, len(seqs)) // tokens of each sequence already evaluated
	var from []int                 // batch row -> index in seqs
	for {
		b := &s.batch
		b.Reset()
		b.Logits = b.Logits[:0]
		from = from[:0]
		for i, q := range seqs {
			for next[i] < len(tokens[i]) && len(b.Tokens) < s.m.opts.BatchSize {
				b.Tokens = append(b.Tokens, tokens[i][next[i]])
				b.Seqs = append(b.Seqs, q.id)
				b.Logits = append(b.Logits, next[i] == len(tokens[i])-1)
				from = append(from, i)
				next[i]++
			}
		}
		if len(b.Tokens) == 0 {
			return nil
		}
		logits, err := s.st.forward(b)
		if err != nil {
			return err
		}
		// Histories follow the cache: append what this pass evaluated.
		row := 0
		for r, i := range from {
			q := seqs[i]
			q.tokens = append(q.tokens, b.Tokens[r])
			if b.Logits[r] {
				q.logits = append(q.logits[:0], logits[row*vocab:(row+1)*vocab]...)
				row++
			}
		}
	}
}
