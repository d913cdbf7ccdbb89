// Package fakeengine is a deterministic server.Engine for tests and load
// tests: bytes are tokens, and the "model" continues the alphabet, so every
// output is predictable while the scheduler's use of the engine is checked
// step by step.
//
// Token ids 0–255 are bytes, EOS is 256 and BOS 257. After a lowercase
// letter the most likely next token is the following letter, after 'z' it
// is EOS, and after anything else it is 'a'; so the greedy completion of
// "…k" is "lmnopqrstuvwxyz", finishing with EOS.
package fakeengine

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bitnet-go/bitnet/runtime/server"
)

// Special tokens and the vocabulary size.
const (
	EOS   int32 = 256
	BOS   int32 = 257
	Vocab       = 258
)

// Engine is the fake. Its zero value is not usable; call New.
type Engine struct {
	slots, ctx int

	// StepCost, if set, is how long a step takes (slept), from the number
	// of tokens and sequences in it, to imitate a real model's costs.
	StepCost func(tokens, seqs int) time.Duration
	// OnStep, if set, runs at the start of every step (on the scheduler's
	// goroutine), e.g. to hold a step until a test is ready.
	OnStep func(batch []server.StepEntry)
	// FailStep, if set, makes Step fail when it returns an error.
	FailStep func(batch []server.StepEntry) error
	// Endless makes 'a' follow 'z' instead of EOS, for streams that run
	// until max_tokens or a cancel. Only greedy decoding (temperature 0)
	// is endless: sampling still draws EOS, at logit 0 against the
	// favoured token's 10, with probability about 4.5e-5 a token.
	Endless bool

	mu         sync.Mutex
	length     []int   // tokens held per slot
	last       []int32 // last token per slot
	logits     [][]float32
	stats      Stats
	violations []string
}

// Stats counts what the scheduler asked of the engine.
type Stats struct {
	Steps      int
	Tokens     int // tokens evaluated
	MaxSeqs    int // most sequences in one step
	MaxTokens  int // most tokens in one step
	SeqSteps   int // sum over steps of the sequences in them
	Frees      int
	Copies     int // CopyPrefix calls
	Copied     int // positions copied by them
	LiveSlots  int // slots holding tokens now
	Violations []string
}

// New returns a fake with slots sequences of up to ctx positions each.
func New(slots, ctx int) *Engine {
	e := &Engine{slots: slots, ctx: ctx, length: make([]int, slots), last: make([]int32, slots), logits: make([][]float32, slots)}
	for i := range e.logits {
		e.logits[i] = make([]float32, Vocab)
	}
	return e
}

// Slots implements server.Engine.
func (e *Engine) Slots() int { return e.slots }

// ContextLength implements server.Engine.
func (e *Engine) ContextLength() int { return e.ctx }

// EncodePrompt implements server.Engine: BOS, then one token per byte.
func (e *Engine) EncodePrompt(text string) []int32 {
	toks := make([]int32, 0, len(text)+1)
	toks = append(toks, BOS)
	for i := 0; i < len(text); i++ {
		toks = append(toks, int32(text[i]))
	}
	return toks
}

// EncodeChat implements server.Engine with a plain "role: content" template.
func (e *Engine) EncodeChat(msgs []server.ChatMessage) ([]int32, error) {
	var text string
	for _, m := range msgs {
		text += m.Role + ": " + m.Content + "\n"
	}
	return e.EncodePrompt(text + "assistant: "), nil
}

// NewDecoder implements server.Engine.
func (e *Engine) NewDecoder() server.TextDecoder { return &decoder{} }

// TokenPieces implements server.VocabPiecer: ids 0–255 are their byte,
// EOS and BOS stand for no text.
func (e *Engine) TokenPieces() ([][]byte, []int32) {
	pieces := make([][]byte, Vocab)
	for b := range 256 {
		pieces[b] = []byte{byte(b)}
	}
	return pieces, []int32{EOS}
}

// IsEOG implements server.Engine.
func (e *Engine) IsEOG(id int32) bool { return id == EOS }

// ValidToken implements server.Engine.
func (e *Engine) ValidToken(id int32) bool { return id >= 0 && id < Vocab }

// Next is the token the fake model favours after tok.
func (e *Engine) Next(tok int32) int32 {
	switch {
	case tok >= 'a' && tok < 'z':
		return tok + 1
	case tok == 'z' && !e.Endless:
		return EOS
	}
	return 'a'
}

// Step implements server.Engine, checking the batch against the contract.
func (e *Engine) Step(batch []server.StepEntry) error {
	if e.OnStep != nil {
		e.OnStep(batch)
	}
	if e.FailStep != nil {
		if err := e.FailStep(batch); err != nil {
			return err
		}
	}
	e.mu.Lock()
	seen := make(map[int]bool, len(batch))
	tokens := 0
	for _, b := range batch {
		switch {
		case b.Slot < 0 || b.Slot >= e.slots:
			e.violate("slot %d out of range", b.Slot)
			continue
		case seen[b.Slot]:
			e.violate("slot %d twice in one batch", b.Slot)
		case b.Pos != e.length[b.Slot]:
			e.violate("slot %d: pos %d but the slot holds %d tokens", b.Slot, b.Pos, e.length[b.Slot])
		case len(b.Tokens) == 0:
			e.violate("slot %d: empty entry", b.Slot)
			continue
		case b.Pos+len(b.Tokens) > e.ctx:
			e.violate("slot %d: %d+%d tokens overflow the context of %d", b.Slot, b.Pos, len(b.Tokens), e.ctx)
		}
		seen[b.Slot] = true
		tokens += len(b.Tokens)
		e.length[b.Slot] = b.Pos + len(b.Tokens)
		e.last[b.Slot] = b.Tokens[len(b.Tokens)-1]
	}
	e.stats.Steps++
	e.stats.Tokens += tokens
	e.stats.SeqSteps += len(batch)
	e.stats.MaxSeqs = max(e.stats.MaxSeqs, len(batch))
	e.stats.MaxTokens = max(e.stats.MaxTokens, tokens)
	e.mu.Unlock()

	if e.StepCost != nil {
		time.Sleep(e.StepCost(tokens, len(batch)))
	}
	for i := range batch {
		b := &batch[i]
		if !b.WantLogits || b.Slot < 0 || b.Slot >= e.slots {
			continue
		}
		l := e.logits[b.Slot]
		clear(l)
		l[e.Next(b.Tokens[len(b.Tokens)-1])] = 10
		b.Logits = l
	}
	return nil
}

// CopyPrefix implements server.PrefixCopier: slot dst now holds the first
// n tokens of slot src.
func (e *Engine) CopyPrefix(dst, src, n int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if dst < 0 || dst >= e.slots || src < 0 || src >= e.slots || dst == src {
		e.violate("copy from slot %d to %d out of range", src, dst)
		return fmt.Errorf("bad slots %d → %d", src, dst)
	}
	if n > e.length[src] {
		e.violate("copy of %d tokens from slot %d, which holds %d", n, src, e.length[src])
		return fmt.Errorf("slot %d holds %d tokens", src, e.length[src])
	}
	e.length[dst] = n
	e.stats.Copies++
	e.stats.Copied += n
	return nil
}

// TokenBytes implements server.TokenPiecer: a byte token is its byte, EOS
// and BOS are "</s>" and "<s>".
func (e *Engine) TokenBytes(id int32) []byte {
	switch {
	case id >= 0 && id < 256:
		return []byte{byte(id)}
	case id == EOS:
		return []byte("</s>")
	case id == BOS:
		return []byte("<s>")
	}
	return nil
}

// Free implements server.Engine.
func (e *Engine) Free(slot int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if slot < 0 || slot >= e.slots {
		e.violate("free of slot %d out of range", slot)
		return
	}
	e.length[slot] = 0
	e.stats.Frees++
}

func (e *Engine) violate(format string, args ...any) {
	e.violations = append(e.violations, fmt.Sprintf(format, args...))
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Violations = append([]string(nil), e.violations...)
	for _, n := range e.length {
		if n > 0 {
			s.LiveSlots++
		}
	}
	return s
}

// decoder passes bytes through, holding back an incomplete UTF-8 sequence.
type decoder struct{ buf []byte }

func (d *decoder) Next(id int32) string {
	if id < 0 || id > 255 {
		return ""
	}
	d.buf = append(d.buf, byte(id))
	n := len(d.buf)
	// Hold back a trailing partial character (at most 3 bytes).
	for i := 1; i <= 3 && i <= n; i++ {
		if utf8.RuneStart(d.buf[n-i]) {
			if !utf8.FullRune(d.buf[n-i:]) {
				out := string(d.buf[:n-i])
				d.buf = append(d.buf[:0], d.buf[n-i:]...)
				return out
			}
			break
		}
	}
	out := string(d.buf)
	d.buf = d.buf[:0]
	return out
}

func (d *decoder) Flush() string {
	out := string(d.buf)
	d.buf = d.buf[:0]
	return out
}
