package server

// Engine is the model as the server sees it. The scheduler calls Step and
// Free from a single goroutine; the other methods may be called from any
// goroutine at any time and must be safe for concurrent use.
type Engine interface {
	// Slots is the number of sequences that can be in the KV cache at once,
	// numbered 0 … Slots()-1.
	Slots() int
	// ContextLength is the most positions one sequence may occupy.
	ContextLength() int

	// EncodePrompt tokenizes a /v1/completions prompt the way the model
	// expects raw text (a BOS token where the vocabulary asks for one).
	EncodePrompt(text string) []int32
	// EncodeChat renders messages with the model's chat template, ending
	// with the assistant's generation prompt, and tokenizes the result.
	EncodeChat(msgs []ChatMessage) ([]int32, error)
	// NewDecoder returns a streaming detokenizer for one sequence.
	NewDecoder() TextDecoder
	// IsEOG reports whether sampling id ends generation.
	IsEOG(id int32) bool
	// ValidToken reports whether id is a token of the vocabulary (for
	// prompts given as token ids).
	ValidToken(id int32) bool

	// Step runs one batched forward pass. Each entry appends its Tokens to
	// slot Slot's sequence at positions Pos, Pos+1, …; Pos is always the
	// number of tokens the slot already holds (0 right after Free). For every
	// entry with WantLogits set, Step stores the logits of the entry's last
	// token in Logits; they stay valid until the next call to Step. An error
	// fails every sequence in the batch.
	Step(batch []StepEntry) error
	// Free empties slot's KV cache, making it ready for a new sequence.
	Free(slot int)
}

// StepEntry is one sequence's share of a batched forward pass.
type StepEntry struct {
	Slot       int
	Pos        int
	Tokens     []int32
	WantLogits bool
	// Logits is set by Step when WantLogits is.
	Logits []float32
}

// TextDecoder turns sampled ids into text without splitting a UTF-8
// character across two pieces.
type TextDecoder interface {
	// Next adds id and returns the text completed by it (often "").
	Next(id int32) string
	// Flush returns whatever is still held back.
	Flush() string
}

// ChatMessage is one turn of a conversation, its content flattened to text.
type ChatMessage struct {
	Role    string // "system", "user" or "assistant" ("developer" arrives as "system")
	Content string
}

// ChatStopper is an optional Engine method: texts that end an assistant
// turn in the model's chat format, added to every chat request's stop
// strings.
type ChatStopper interface {
	ChatStops() []string
}
