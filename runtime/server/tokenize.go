package server

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/bitnet-go/bitnet/runtime/chat"
)

// TextEngine is what /tokenize, /detokenize and /apply-template need from
// an Engine; one without it answers them with 501.
type TextEngine interface {
	// Tokenize tokenizes text; addSpecial adds BOS where the vocabulary
	// asks for it, parseSpecial turns special token texts into their tokens.
	Tokenize(text string, addSpecial, parseSpecial bool) []int32
	// Piece is token id's text as bytes, special tokens spelled out.
	Piece(id int32) []byte
	// ApplyTemplate renders msgs with the chat template and the
	// generation prompt, as EncodeChat does before tokenizing.
	ApplyTemplate(msgs []ChatMessage) (string, error)
}

// Tokenize implements TextEngine.
func (e *RuntimeEngine) Tokenize(text string, addSpecial, parseSpecial bool) []int32 {
	return e.tok.Encode(text, addSpecial, parseSpecial)
}

// Piece implements TextEngine.
func (e *RuntimeEngine) Piece(id int32) []byte { return e.tok.Piece(id) }

// ApplyTemplate implements TextEngine.
func (e *RuntimeEngine) ApplyTemplate(msgs []ChatMessage) (string, error) {
	cm := make([]chat.Message, len(msgs))
	for i, m := range msgs {
		cm[i] = chat.Message{Role: m.Role, Content: m.Content}
	}
	return e.tmpl.Apply(cm, true)
}

// The request and response shapes are llama-server's (tools/server's
// handle_tokenize, handle_detokenize and handle_apply_template), so that
// its clients work unchanged.
type tokenizeRequest struct {
	Content      *string `json:"content"`
	AddSpecial   bool    `json:"add_special"`   // default false, as llama-server
	ParseSpecial *bool   `json:"parse_special"` // default true
	WithPieces   bool    `json:"with_pieces"`
}

// tokenPiece is one token of a with_pieces answer: the piece is a string
// when it is valid UTF-8, else its bytes as numbers (llama-server's shape).
type tokenPiece struct {
	ID    int32 `json:"id"`
	Piece any   `json:"piece"`
}

type detokenizeRequest struct {
	Tokens []int32 `json:"tokens"`
}

type applyTemplateRequest struct {
	Messages []chatMessageIn `json:"messages"`
}

// registerTextRoutes adds the tokenizer endpoints to mux.
func (s *Server) registerTextRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/tokenize", only(http.MethodPost, s.handleTokenize))
	mux.HandleFunc("/detokenize", only(http.MethodPost, s.handleDetokenize))
	mux.HandleFunc("/apply-template", only(http.MethodPost, s.handleApplyTemplate))
}

// textRequest returns the engine's TextEngine and the decoded body of a
// tokenizer endpoint's request, or writes the error (501 for an engine
// without a tokenizer, 400 for a bad body) and reports false.
func textRequest[T any](s *Server, w http.ResponseWriter, r *http.Request) (TextEngine, *T, bool) {
	te, ok := s.eng.(TextEngine)
	if !ok {
		writeError(w, newAPIError(http.StatusNotImplemented, typeInvalidRequest, "not_implemented",
			fmt.Sprintf("%s is not available for this engine", r.URL.Path)))
		return nil, nil, false
	}
	req := new(T)
	if e := decodeBody(w, r, s.cfg.MaxBodyBytes, req); e != nil {
		writeError(w, e)
		return nil, nil, false
	}
	return te, req, true
}

func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request) {
	te, req, ok := textRequest[tokenizeRequest](s, w, r)
	if !ok {
		return
	}
	if req.Content == nil {
		writeError(w, badRequest("content", "'content' (the text to tokenize) is required"))
		return
	}
	parse := req.ParseSpecial == nil || *req.ParseSpecial
	ids := te.Tokenize(*req.Content, req.AddSpecial, parse)
	if !req.WithPieces {
		writeJSON(w, http.StatusOK, map[string]any{"tokens": nonNilIDs(ids)})
		return
	}
	tokens := make([]tokenPiece, len(ids))
	for i, id := range ids {
		p := te.Piece(id)
		if utf8.Valid(p) {
			tokens[i] = tokenPiece{id, string(p)}
		} else {
			b := make([]int, len(p))
			for k, c := range p {
				b[k] = int(c)
			}
			tokens[i] = tokenPiece{id, b}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": tokens})
}

func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request) {
	te, req, ok := textRequest[detokenizeRequest](s, w, r)
	if !ok {
		return
	}
	var text []byte
	for i, id := range req.Tokens {
		if !s.eng.ValidToken(id) {
			writeError(w, badRequest(fmt.Sprintf("tokens[%d]", i), fmt.Sprintf("token %d is not in the vocabulary", id)))
			return
		}
		text = append(text, te.Piece(id)...)
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": string(text)})
}

func (s *Server) handleApplyTemplate(w http.ResponseWriter, r *http.Request) {
	te, req, ok := textRequest[applyTemplateRequest](s, w, r)
	if !ok {
		return
	}
	msgs, e := (&chatRequest{Messages: req.Messages}).chatMessages()
	if e != nil {
		writeError(w, e)
		return
	}
	prompt, err := te.ApplyTemplate(msgs)
	if err != nil {
		writeError(w, badRequest("messages", err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"prompt": prompt})
}

func nonNilIDs(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

// The runtime engine serves the tokenizer endpoints.
var _ TextEngine = (*RuntimeEngine)(nil)
