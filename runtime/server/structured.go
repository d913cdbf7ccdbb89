package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/bitnet-go/bitnet/runtime/grammar"
)

// Structured output: response_format and tool calls are served by
// constrained sampling. Before each draw the logits of every token that
// cannot continue a valid document are set to -Inf (runtime/grammar finds
// them), so the reply parses and validates whatever the weights are.

// VocabPiecer is an optional Engine method that structured output and
// tools need: the text of every token at once, to know which tokens may
// come next under a grammar. (TokenPiecer, for logprobs, gives one
// token's bytes with special tokens spelled out; here they stand for no
// text, as the decoder drops them.)
type VocabPiecer interface {
	// TokenPieces returns, for every token id the logits cover, the bytes
	// it stands for (empty for tokens that never appear in text: control
	// tokens and padding), and the end-of-generation ids.
	TokenPieces() (pieces [][]byte, eog []int32)
}

// grammarVocab is the engine's vocabulary laid out for token masks, built
// on the first constrained request (a 128k vocabulary takes a moment).
type grammarVocab struct {
	once   sync.Once
	vocab  *grammar.Vocab
	pieces [][]byte
}

func (s *Server) vocab() (*grammar.Vocab, [][]byte, bool) {
	tp, ok := s.eng.(VocabPiecer)
	if !ok {
		return nil, nil, false
	}
	s.gvocab.once.Do(func() {
		pieces, eog := tp.TokenPieces()
		s.gvocab.pieces = pieces
		s.gvocab.vocab = grammar.NewVocab(pieces, eog)
	})
	return s.gvocab.vocab, s.gvocab.pieces, true
}

// responseFormat is OpenAI's response_format.
type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Schema      json.RawMessage `json:"schema"`
		Strict      *bool           `json:"strict"`
	} `json:"json_schema"`
}

// parseResponseFormat compiles response_format into a schema; nil means
// free text.
func parseResponseFormat(raw json.RawMessage) (*grammar.Schema, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	var rf responseFormat
	if err := json.Unmarshal(raw, &rf); err != nil {
		return nil, badRequest("response_format", "invalid 'response_format': expected an object with a 'type' ("+err.Error()+")")
	}
	switch rf.Type {
	case "text":
		return nil, nil
	case "json_object":
		return grammar.AnyObject(), nil
	case "json_schema":
		js := rf.JSONSchema
		if js == nil || isNull(js.Schema) {
			return nil, badRequest("response_format.json_schema.schema", "response_format of type 'json_schema' needs json_schema.schema")
		}
		s, err := compileSchema(js.Schema, js.Strict != nil && *js.Strict, "response_format.json_schema.schema")
		if err != nil {
			return nil, err
		}
		return s, nil
	case "":
		return nil, badRequest("response_format.type", "response_format needs a 'type': 'text', 'json_object' or 'json_schema'")
	}
	return nil, badRequest("response_format.type", fmt.Sprintf("unsupported response_format type '%s' (use 'text', 'json_object' or 'json_schema')", rf.Type))
}

// compileSchema compiles a request's JSON Schema, explaining a refusal by
// the keyword and where it sits. Clients send the same schema request
// after request, so compiled schemas (read-only, shared by any number of
// matchers) are kept in a small cache.
func compileSchema(raw json.RawMessage, strict bool, param string) (*grammar.Schema, *apiError) {
	key := fmt.Sprintf("%t %s", strict, raw)
	if s := schemas.get(key); s != nil {
		return s, nil
	}
	s, err := grammar.Compile(raw, grammar.Options{Strict: strict})
	var se *grammar.SchemaError
	switch {
	case errors.As(err, &se) && se.Keyword != "":
		return nil, badRequest(param, fmt.Sprintf("unsupported or invalid JSON Schema in '%s': %v", param, err))
	case err != nil:
		return nil, badRequest(param, fmt.Sprintf("invalid JSON Schema in '%s': %v", param, err))
	}
	schemas.put(key, s)
	return s, nil
}

// schemaCache holds recently compiled schemas by their text, up to
// schemaCacheSize entries (and schemaCacheBytes of text); when full, the
// oldest entry goes.
type schemaCache struct {
	mu    sync.Mutex
	m     map[string]*grammar.Schema
	order []string
	bytes int
}

const (
	schemaCacheSize  = 64
	schemaCacheBytes = 4 << 20
)

var schemas = &schemaCache{m: map[string]*grammar.Schema{}}

func (c *schemaCache) get(key string) *grammar.Schema {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *schemaCache) put(key string, s *grammar.Schema) {
	if len(key) > schemaCacheBytes/8 {
		return // a huge schema is not worth keeping
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	for len(c.order) > 0 && (len(c.order) >= schemaCacheSize || c.bytes+len(key) > schemaCacheBytes) {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(old)
		delete(c.m, old)
	}
	c.m[key] = s
	c.order = append(c.order, key)
	c.bytes += len(key)
}

// constraint is one sequence's grammar, owned by the scheduler goroutine.
// In lazy mode (tool_choice auto) the first token decides: a piece that
// starts with '[' begins a tool call and is held to the calls grammar,
// anything else makes the reply free text (or, with text set, a document
// of the response_format schema).
type constraint struct {
	m      *grammar.Matcher
	vocab  *grammar.Vocab
	pieces [][]byte
	lazy   bool
	text   *grammar.Matcher // lazy mode: the reply's grammar when no tool is called
	off    bool             // lazy mode decided for free text
	*scratch
}

// scratch is a constraint's working memory, reused across sequences: for
// a 128k vocabulary the allowed ids alone can take half a megabyte.
type scratch struct {
	ok   []uint64 // allowed tokens as a bit set
	ids  []int32
	ids2 []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release returns the constraint's scratch memory when its sequence ends.
func (c *constraint) release() {
	if c != nil && c.scratch != nil {
		scratchPool.Put(c.scratch)
		c.scratch = nil
	}
}

// grammarSpec is a request's grammar, from which each of its sequences
// gets a constraint of its own.
type grammarSpec struct {
	g, text *grammar.Schema
	lazy    bool
	vocab   *grammar.Vocab
	pieces  [][]byte
}

func (s *Server) newGrammar(g *grammar.Schema, lazy bool, text *grammar.Schema, param string) (*grammarSpec, *apiError) {
	v, pieces, ok := s.vocab()
	if !ok {
		return nil, badRequest(param, "this server's engine cannot constrain its output")
	}
	return &grammarSpec{g: g, text: text, lazy: lazy, vocab: v, pieces: pieces}, nil
}

// constraint starts a sequence's constraint; nil for free text.
func (gs *grammarSpec) constraint() *constraint {
	if gs == nil {
		return nil
	}
	c := &constraint{m: gs.g.NewMatcher(), vocab: gs.vocab, pieces: gs.pieces, lazy: gs.lazy, scratch: scratchPool.Get().(*scratch)}
	if gs.text != nil {
		c.text = gs.text.NewMatcher()
	}
	return c
}

// errGrammar ends a sequence whose sampled token broke its grammar, which
// the masks make impossible; it is there so that a bug shows as an error
// rather than as invalid JSON.
var errGrammar = errors.New("a sampled token broke the reply's grammar")

// apply masks the logits of the tokens that may not come next. budget is
// the number of tokens the sequence may still produce, this one included.
func (c *constraint) apply(logits []float32, budget int) {
	if c.off {
		return
	}
	if c.scratch == nil {
		c.scratch = new(scratch)
	}
	c.ids = c.m.Allowed(c.vocab, budget, c.ids[:0])
	if c.lazy {
		// A tool call may start only with a piece the calls grammar
		// allows; other pieces starting with '[' are ruled out, and the
		// rest follow the text grammar, or nothing.
		keep := c.ids[:0]
		for _, id := range c.ids {
			if p := c.pieces[id]; len(p) > 0 && p[0] == '[' {
				keep = append(keep, id)
			}
		}
		c.ids = keep
		if c.text != nil {
			c.ids2 = c.text.Allowed(c.vocab, budget, c.ids2[:0])
			for _, id := range c.ids2 {
				if p := c.pieces[id]; len(p) == 0 || p[0] != '[' {
					c.ids = append(c.ids, id)
				}
			}
		} else {
			for id, p := range c.pieces {
				if len(p) == 0 || p[0] != '[' {
					c.ids = append(c.ids, int32(id))
				}
			}
		}
	}
	if len(c.ids) == 0 {
		return // cannot happen; accept reports the break if it does
	}
	words := (len(logits) + 63) / 64
	if cap(c.ok) < words {
		c.ok = make([]uint64, words)
	}
	c.ok = c.ok[:words]
	clear(c.ok)
	for _, id := range c.ids {
		if int(id) < len(logits) {
			c.ok[id/64] |= 1 << (id % 64)
		}
	}
	inf := float32(math.Inf(-1))
	for i := range logits {
		if c.ok[i/64]&(1<<(i%64)) == 0 {
			logits[i] = inf
		}
	}
}

// accept advances the grammar by the sampled token; false means the token
// broke it.
func (c *constraint) accept(id int32) bool {
	if c.off {
		return true
	}
	var piece []byte
	if int(id) < len(c.pieces) {
		piece = c.pieces[id]
	}
	if c.lazy && len(piece) == 0 {
		// A token without text (end of generation, a control token)
		// decides nothing.
		return true
	}
	if c.lazy {
		c.lazy = false
		if piece[0] != '[' {
			if c.text == nil {
				c.off = true
				return true
			}
			c.m = c.text
		}
	}
	return c.m.AcceptToken(c.vocab, piece, id)
}

// structured sets up a chat request's response_format and tools: the
// constraint of its reply, the tools' description in the conversation,
// and the stop strings that still apply. A nil plan means no tool calls.
func (s *Server) structured(req *chatRequest, g *genRequest, msgs []ChatMessage) ([]ChatMessage, *toolPlan, *apiError) {
	text, e := parseResponseFormat(req.ResponseFormat)
	if e != nil {
		return nil, nil, e
	}
	plan, e := req.parseTools()
	if e != nil {
		return nil, nil, e
	}
	switch {
	case plan != nil:
		msgs = withToolPrompt(msgs, plan.prompt)
		g.gram, e = s.newGrammar(plan.calls, !plan.forced, text, "tools")
		if plan.forced {
			// The grammar ends a call; a stop string could only cut
			// its JSON.
			g.stops = nil
		}
	case text != nil:
		g.gram, e = s.newGrammar(text, false, nil, "response_format")
	}
	return msgs, plan, e
}

// completionFormat sets up response_format on /v1/completions, as
// llama-server accepts it there.
func (s *Server) completionFormat(req *completionRequest, g *genRequest) *apiError {
	text, e := parseResponseFormat(req.ResponseFormat)
	if e != nil || text == nil {
		return e
	}
	g.gram, e = s.newGrammar(text, false, nil, "response_format")
	return e
}
