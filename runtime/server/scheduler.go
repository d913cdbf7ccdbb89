package server

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Errors a submission or a job can end with.
var (
	errQueueFull    = errors.New("too many requests waiting: the queue is full")
	errShuttingDown = errors.New("the server is shutting down")
)

// scheduler runs continuous batching: one goroutine owns the engine, admits
// queued jobs into free slots between steps, and runs one batched forward
// per step for every job in a slot.
type scheduler struct {
	eng          Engine
	newSampler   NewSamplerFunc
	queueLen     int
	batchTokens  int
	prefillChunk int
	ctxLen       int

	mu        sync.Mutex
	queue     []*job
	closed    bool  // no new submissions (draining)
	cancelErr error // when set, every job is ended with it
	wake      chan struct{}
	quit      chan struct{}
	done      chan struct{}

	// Owned by the loop goroutine.
	active   []*job
	admitted []*job // active jobs in admission order, for prefill fairness
	batch    []StepEntry
	want     []int   // entries of batch with logits
	sampled  []int32 // the token drawn for each entry of batch

	metrics *metrics // nil: none

	nActive atomic.Int32
	steps   atomic.Int64
	tokens  atomic.Int64 // tokens sampled
	shared  atomic.Int64 // prompt positions copied between the choices of a request instead of evaluated
}

func newScheduler(eng Engine, cfg Config) *scheduler {
	return &scheduler{
		eng:          eng,
		newSampler:   cfg.NewSampler,
		queueLen:     cfg.QueueLength,
		batchTokens:  cfg.BatchTokens,
		prefillChunk: cfg.PrefillChunk,
		ctxLen:       eng.ContextLength(),
		wake:         make(chan struct{}, 1),
		quit:         make(chan struct{}),
		done:         make(chan struct{}),
		active:       make([]*job, eng.Slots()),
	}
}

func (s *scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// submit queues jobs (the choices of one request, together), failing at
// once when the queue has no room for all of them or the server is
// draining.
func (s *scheduler) submit(jobs ...*job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errShuttingDown
	}
	s.pruneLocked()
	// Jobs that free slots will take at the loop's next turn are not
	// waiting: without counting them, two requests arriving before the loop
	// runs would see a queue of one on an idle server.
	free := max(len(s.active)-int(s.nActive.Load()), 0)
	if len(s.queue)+len(jobs) > s.queueLen+free {
		return errQueueFull
	}
	s.queue = append(s.queue, jobs...)
	s.signal()
	return nil
}

// pruneLocked drops queued jobs whose clients are gone.
func (s *scheduler) pruneLocked() {
	q := s.queue[:0]
	for _, j := range s.queue {
		if err := j.ctx.Err(); err != nil {
			j.out.finish("", err, Usage{PromptTokens: len(j.prompt)})
			continue
		}
		q = append(q, j)
	}
	clear(s.queue[len(q):])
	s.queue = q
}

// drain refuses new jobs and fails the queued ones; running jobs go on.
func (s *scheduler) drain() {
	s.mu.Lock()
	s.closed = true
	for _, j := range s.queue {
		j.out.finish("", errShuttingDown, Usage{PromptTokens: len(j.prompt)})
	}
	clear(s.queue)
	s.queue = s.queue[:0]
	s.mu.Unlock()
}

// cancelAll ends every job, running or queued, with err.
func (s *scheduler) cancelAll(err error) {
	s.mu.Lock()
	s.closed = true
	s.cancelErr = err
	s.mu.Unlock()
	s.signal()
}

// stop ends the loop after cancelling everything, and waits for it.
func (s *scheduler) stop() {
	s.cancelAll(errShuttingDown)
	s.mu.Lock()
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.mu.Unlock()
	<-s.done
}

// queued is the number of jobs waiting for a slot.
func (s *scheduler) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// run is the scheduler loop.
func (s *scheduler) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		cancelErr := s.cancelErr
		s.mu.Unlock()
		if cancelErr != nil {
			s.endAll(cancelErr)
		}
		s.admit()
		s.reap()
		if len(s.admitted) == 0 {
			select {
			case <-s.wake:
				continue
			case <-s.quit:
				s.endAll(errShuttingDown)
				return
			}
		}
		s.step()
	}
}

// endAll fails every queued and running job with err.
func (s *scheduler) endAll(err error) {
	s.mu.Lock()
	for _, j := range s.queue {
		j.out.finish("", err, Usage{PromptTokens: len(j.prompt)})
	}
	clear(s.queue)
	s.queue = s.queue[:0]
	s.mu.Unlock()
	for i := len(s.admitted) - 1; i >= 0; i-- {
		s.end(s.admitted[i], "", err)
	}
}

// admit moves queued jobs into free slots.
func (s *scheduler) admit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for slot, a := range s.active {
		if a != nil {
			continue
		}
		var j *job
		for len(s.queue) > 0 && j == nil {
			j = s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			if err := j.ctx.Err(); err != nil {
				j.out.finish("", err, Usage{PromptTokens: len(j.prompt)})
				j = nil
			}
		}
		if j == nil {
			return
		}
		j.slot, j.pos, j.pending, j.prefill = slot, 0, j.prompt, true
		j.sampler = s.newSampler(j.params)
		j.dec = s.eng.NewDecoder()
		j.stop = stopMatcher{stops: j.stops}
		j.startDraw()
		s.active[slot] = j
		s.admitted = append(s.admitted, j)
		s.nActive.Add(1)
	}
}

// reap ends the jobs whose clients went away or ran out of time.
func (s *scheduler) reap() {
	// Backwards, because ending a job removes it from admitted.
	for i := len(s.admitted) - 1; i >= 0; i-- {
		if err := s.admitted[i].ctx.Err(); err != nil {
			s.end(s.admitted[i], "", err)
		}
	}
}

// step builds one batch, runs it and samples.
func (s *scheduler) step() {
	s.batch = s.batch[:0]
	budget := s.batchTokens
	decoding := 0
	for _, j := range s.admitted {
		if j.waiting {
			s.tryShare(j)
		}
	}
	for _, j := range s.admitted {
		if !j.prefill {
			s.batch = append(s.batch, StepEntry{Slot: j.slot, Pos: j.pos, Tokens: j.pending, WantLogits: true})
			budget--
			decoding++
		}
	}
	chunk := budget
	if decoding > 0 {
		chunk = min(chunk, s.prefillChunk)
	}
	for _, j := range s.admitted {
		if !j.prefill || j.waiting || chunk <= 0 {
			continue
		}
		n := min(len(j.pending), chunk)
		s.batch = append(s.batch, StepEntry{Slot: j.slot, Pos: j.pos, Tokens: j.pending[:n], WantLogits: n == len(j.pending)})
		chunk -= n
	}
	if len(s.batch) == 0 {
		return
	}
	s.steps.Add(1)
	if err := s.eng.Step(s.batch); err != nil {
		err = fmt.Errorf("model step: %w", err)
		for _, e := range s.batch {
			if j := s.active[e.Slot]; j != nil {
				s.end(j, "", err)
			}
		}
		return
	}
	for _, e := range s.batch {
		j := s.active[e.Slot]
		j.pos += len(e.Tokens)
		j.pending = j.pending[len(e.Tokens):]
	}
	s.sampleAll()
	for i, e := range s.batch {
		if e.WantLogits {
			j := s.active[e.Slot]
			j.prefill = false
			s.accept(j, s.sampled[i])
		}
	}
}

// sampleAll draws the next token of every sequence of the batch that has
// logits, into s.sampled. Over a large vocabulary a draw costs a visible
// fraction of a decode step, so the sequences are spread over goroutines
// (each has its own sampler); the engine's workers are idle meanwhile.
func (s *scheduler) sampleAll() {
	s.sampled = slices.Grow(s.sampled[:0], len(s.batch))[:len(s.batch)]
	s.want = s.want[:0]
	for i, e := range s.batch {
		if e.WantLogits {
			s.want = append(s.want, i)
		}
	}
	draw := func(i int) {
		e := &s.batch[i]
		s.sampled[i] = s.active[e.Slot].draw(e.Logits)
	}
	workers := min(goruntime.GOMAXPROCS(0), len(s.want))
	if workers < 2 {
		for _, i := range s.want {
			draw(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() {
			for k := w; k < len(s.want); k += workers {
				draw(s.want[k])
			}
		})
	}
	for k := 0; k < len(s.want); k += workers {
		draw(s.want[k])
	}
	wg.Wait()
}

// accept handles one sampled token of j.
func (s *scheduler) accept(j *job, tok int32) {
	j.generated++
	s.tokens.Add(1)
	if j.gram != nil && !j.gram.accept(tok) {
		s.end(j, "", errGrammar)
		return
	}
	eog := s.eng.IsEOG(tok)
	s.accepted(j, tok, eog)
	if eog {
		s.end(j, finishStop, nil)
		return
	}
	text, stopped := j.stop.push(j.dec.Next(tok))
	j.out.write(text)
	switch {
	case stopped:
		j.stop.held = ""
		s.endStopped(j)
	case j.generated >= j.maxTokens || j.pos >= s.ctxLen:
		s.end(j, finishLength, nil)
	default:
		j.one[0] = tok
		j.pending = j.one[:]
	}
}

// end finishes j: on a normal finish the text still held back by the
// decoder and the stop matcher goes out first. The slot and its KV cache
// are freed at once.
func (s *scheduler) end(j *job, reason string, err error) {
	if err == nil {
		text, stopped := j.stop.push(j.dec.Flush())
		j.out.write(text)
		if stopped {
			s.endStopped(j)
			return
		}
		j.out.write(j.stop.flush())
	}
	s.release(j, reason, err)
}

// endStopped finishes j because a stop string was generated.
func (s *scheduler) endStopped(j *job) { s.release(j, finishStop, nil) }

func (s *scheduler) release(j *job, reason string, err error) {
	s.metrics.finished(j, err)
	j.gram.release()
	j.out.finish(reason, err, Usage{
		PromptTokens:     len(j.prompt),
		CompletionTokens: j.generated,
		TotalTokens:      len(j.prompt) + j.generated,
	})
	if s.active[j.slot] == j {
		s.active[j.slot] = nil
		s.eng.Free(j.slot)
		s.nActive.Add(-1)
	}
	for i, a := range s.admitted {
		if a == j {
			s.admitted = append(s.admitted[:i], s.admitted[i+1:]...)
			break
		}
	}
}
