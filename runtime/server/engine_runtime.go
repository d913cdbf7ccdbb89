package server

import (
	"fmt"

	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
)

// RuntimeEngine serves a runtime.Model: one Session whose KV cache slots are
// the server's sequences, the model's tokenizer, and its chat template
// (runtime/chat). Each step is one Session.Forward over a Batch that mixes
// prompt chunks and sampled tokens of different slots, so the ternary
// matmuls run matrix-matrix over all of them.
type RuntimeEngine struct {
	m     *runtime.Model
	sess  *runtime.Session
	cache *runtime.Cache
	tok   *tokenizer.Tokenizer
	tmpl  chat.Template
	vocab int
	batch runtime.Batch
}

// NewRuntimeEngine prepares m for serving slots sequences at once, with
// the chat template its metadata gives (see chat.ForModel); a template
// that does not compile is an error here, at load. The model must carry a
// tokenizer. The caller keeps ownership of m.
func NewRuntimeEngine(m *runtime.Model, slots int) (*RuntimeEngine, error) {
	return NewRuntimeEngineTemplate(m, slots, "")
}

// NewRuntimeEngineTemplate is NewRuntimeEngine with --chat-template's
// override (a built-in format's name or a template file; "" for the
// model's own).
func NewRuntimeEngineTemplate(m *runtime.Model, slots int, chatTemplate string) (*RuntimeEngine, error) {
	tok := m.Tokenizer()
	if tok == nil {
		return nil, fmt.Errorf("%s: %w", m.Path(), runtime.ErrNoTokenizer)
	}
	tmpl, err := chat.ForTokenizer(tok, m.Config().Arch, m.Path(), chatTemplate)
	if err != nil {
		return nil, err
	}
	if slots < 1 {
		return nil, fmt.Errorf("need at least one sequence slot, got %d", slots)
	}
	sess := m.NewSession(slots)
	return &RuntimeEngine{
		m:     m,
		sess:  sess,
		cache: sess.Cache(),
		tok:   tok,
		tmpl:  tmpl,
		vocab: m.Config().Vocab,
	}, nil
}

// ChatFormat names the chat template in use: a built-in format ("bitnet",
// "chatml", …) or where the Jinja template came from.
func (e *RuntimeEngine) ChatFormat() string { return e.tmpl.Name() }

// Slots implements Engine.
func (e *RuntimeEngine) Slots() int { return e.cache.Seqs() }

// ContextLength implements Engine.
func (e *RuntimeEngine) ContextLength() int { return e.cache.Context() }

// EncodePrompt implements Engine. Like llama-server, special tokens written
// in a raw prompt ("<|eot_id|>") become those tokens, so a client can apply
// its own template.
func (e *RuntimeEngine) EncodePrompt(text string) []int32 { return e.tok.Encode(text, true, true) }

// EncodePromptLimit implements LimitEncoder.
func (e *RuntimeEngine) EncodePromptLimit(text string, limit int) ([]int32, bool) {
	return e.tok.EncodeLimit(text, true, true, limit)
}

// EncodeChat implements Engine with the model's chat template; a template
// error (raise_exception, say) is returned for a 400. BOS leads once, as
// chat.Tokens explains.
func (e *RuntimeEngine) EncodeChat(msgs []ChatMessage) ([]int32, error) {
	text, err := e.ApplyTemplate(msgs)
	if err != nil {
		return nil, err
	}
	return chat.Tokens(e.tok, text), nil
}

// EncodeChatLimit implements LimitEncoder.
func (e *RuntimeEngine) EncodeChatLimit(msgs []ChatMessage, limit int) ([]int32, bool, error) {
	text, err := e.ApplyTemplate(msgs)
	if err != nil {
		return nil, false, err
	}
	ids, ok := chat.TokensLimit(e.tok, text, limit)
	return ids, ok, nil
}

// ChatStops implements ChatStopper: the texts that close an assistant turn,
// for vocabularies where the marker is not a single end-of-generation token.
func (e *RuntimeEngine) ChatStops() []string { return e.tmpl.Stops() }

// NewDecoder implements Engine. Control tokens are dropped from the text.
func (e *RuntimeEngine) NewDecoder() TextDecoder { return e.tok.NewDecoder() }

// TokenPieces implements VocabPiecer: every id the logits cover, with the
// bytes the decoder writes for it; control and unknown tokens (which it
// drops) and padding rows stand for no text.
func (e *RuntimeEngine) TokenPieces() ([][]byte, []int32) {
	pieces := make([][]byte, e.vocab)
	for id := range pieces {
		switch e.tok.Type(int32(id)) {
		case tokenizer.TypeControl, tokenizer.TypeUnknown, tokenizer.TypeUndefined:
		default:
			pieces[id] = e.tok.Piece(int32(id))
		}
	}
	var eog []int32
	for _, id := range e.tok.EOG() {
		if int(id) < e.vocab {
			eog = append(eog, id)
		}
	}
	return pieces, eog
}

// IsEOG implements Engine.
func (e *RuntimeEngine) IsEOG(id int32) bool { return e.tok.IsEOG(id) }

// ValidToken implements Engine: any row of the embedding, which may be more
// than the tokenizer names (padded vocabularies).
func (e *RuntimeEngine) ValidToken(id int32) bool { return id >= 0 && int(id) < e.vocab }

// Step implements Engine with one Session.Forward.
func (e *RuntimeEngine) Step(batch []StepEntry) error {
	e.batch.Reset()
	for i := range batch {
		b := &batch[i]
		if n := e.cache.Len(b.Slot); n != b.Pos {
			return fmt.Errorf("slot %d holds %d tokens, the scheduler expected %d", b.Slot, n, b.Pos)
		}
		last := len(b.Tokens) - 1
		for k, t := range b.Tokens {
			e.batch.Add(t, b.Slot, b.WantLogits && k == last)
		}
	}
	logits, err := e.sess.Forward(&e.batch)
	if err != nil {
		return err
	}
	row := 0
	for i := range batch {
		if batch[i].WantLogits {
			batch[i].Logits = logits[row*e.vocab : (row+1)*e.vocab]
			row++
		}
	}
	return nil
}

// Free implements Engine.
func (e *RuntimeEngine) Free(slot int) { e.cache.Free(slot) }

// CopyPrefix implements PrefixCopier with the cache's own copy.
func (e *RuntimeEngine) CopyPrefix(dst, src, n int) error { return e.cache.CopyPrefix(dst, src, n) }

// TokenBytes implements TokenPiecer: the token's piece, special tokens as
// their text, so logprobs show "<|eot_id|>" rather than nothing.
func (e *RuntimeEngine) TokenBytes(id int32) []byte { return e.tok.Piece(id) }

// Describe implements Describer for /props.
func (e *RuntimeEngine) Describe() ModelInfo {
	text := func(id int32) string {
		if id < 0 {
			return ""
		}
		return string(e.tok.Piece(id))
	}
	return ModelInfo{
		Path:         e.m.Path(),
		ChatTemplate: e.tok.ChatTemplate(),
		ChatFormat:   e.tmpl.Name(),
		BOS:          text(e.tok.BOS()),
		EOS:          text(e.tok.EOS()),
	}
}
