package runtime

import (
	"context"
	"errors"
	"time"
)

// StopReason says why Generate stopped.
type StopReason int

// Reasons for Generate to stop.
const (
	StopEOG       StopReason = iota // an end-of-generation token was sampled
	StopMaxTokens                   // GenerateOptions.MaxTokens reached
	StopContext                     // the sequence filled its context
	StopCanceled                    // ctx was canceled (Generate also returns ctx.Err())
	StopCallback                    // the emit callback returned ErrStop
)

func (r StopReason) String() string {
	switch r {
	case StopEOG:
		return "eog"
	case StopMaxTokens:
		return "max_tokens"
	case StopContext:
		return "context"
	case StopCanceled:
		return "canceled"
	case StopCallback:
		return "callback"
	}
	return "unknown"
}

// ErrStop may be returned by Generate's emit callback to end generation
// without an error (e.g. a stop string was produced).
var ErrStop = errors.New("stop generation")

// GenerateOptions control Generate.
type GenerateOptions struct {
	// MaxTokens is the most tokens to generate; <= 0 means no limit other
	// than the context.
	MaxTokens int
	// Sampler picks each token; nil means greedy.
	Sampler *Sampler
	// IsEOG reports tokens that end generation (they are not emitted nor
	// evaluated); nil means the model tokenizer's end-of-generation ids.
	IsEOG func(id int32) bool
}

// Stats reports what Generate did.
type Stats struct {
	PromptTokens int           // tokens evaluated as prompt
	PromptTime   time.Duration // time spent on them
	Generated    int           // tokens sampled and emitted
	GenerateTime time.Duration // time spent sampling and evaluating them
	Stop         StopReason
	LastToken    int32 // the token that ended generation when Stop is StopEOG
}

// PromptRate is prompt tokens per second.
func (s Stats) PromptRate() float64 { return rate(s.PromptTokens, s.PromptTime) }

// GenerateRate is generated tokens per second.
func (s Stats) GenerateRate() float64 { return rate(s.Generated, s.GenerateTime) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Generate evaluates prompt on seq (which may already hold earlier turns),
// then samples tokens one at a time, evaluating each, and passes them to
// emit until an end-of-generation token, MaxTokens, a full context, or
// cancellation of ctx. A prompt that does not fit the context is an error
// (ErrContextFull); running out of room while generating is a normal stop
// (StopContext). On cancellation it returns the stats so far and ctx.Err().
func Generate(ctx context.Context, seq *Sequence, prompt []int32, opts GenerateOptions, emit func(id int32) error) (Stats, error) {
	var st Stats
	isEOG := opts.IsEOG
	if isEOG == nil {
		isEOG = func(int32) bool { return false }
		if tok := seq.s.m.tok; tok != nil {
			isEOG = tok.IsEOG
		}
	}
	sampler := opts.Sampler
	if sampler == nil {
		sampler = NewSampler(SamplerConfig{})
	}
	if err := ctx.Err(); err != nil {
		st.Stop = StopCanceled
		return st, err
	}
	start := time.Now()
	if err := seq.Prompt(prompt); err != nil {
		return st, err
	}
	st.PromptTokens, st.PromptTime = len(prompt), time.Since(start)
	if seq.Logits() == nil || len(seq.Logits()) == 0 {
		return st, errors.New("generate: the sequence has no logits (empty prompt after a truncation)")
	}
	start = time.Now()
	for {
		if err := ctx.Err(); err != nil {
			st.Stop = StopCanceled
			st.GenerateTime = time.Since(start)
			return st, err
		}
		if opts.MaxTokens > 0 && st.Generated >= opts.MaxTokens {
			st.Stop = StopMaxTokens
			break
		}
		id := sampler.Sample(seq.Logits(), seq.Tokens())
		if isEOG(id) {
			st.Stop, st.LastToken = StopEOG, id
			break
		}
		st.Generated++
		if err := emit(id); err != nil {
			if errors.Is(err, ErrStop) {
				st.Stop = StopCallback
				break
			}
			st.GenerateTime = time.Since(start)
			return st, err
		}
		// The last token may be emitted without being evaluated: the
		// sequence then holds every token but that one.
		if seq.Room() == 0 {
			st.Stop = StopContext
			break
		}
		if err := seq.Decode(id); err != nil {
			st.GenerateTime = time.Since(start)
			return st, err
		}
	}
	st.GenerateTime = time.Since(start)
	return st, nil
}
