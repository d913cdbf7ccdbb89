package main

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/bitnet-go/bitnet/runtime/grammar"
)

// loadSchema is what the constrained share of the load asks for: nested
// object, bounded strings, integers and an array, as a typical extraction
// request would.
const loadSchema = `{"type":"object","properties":{
	"title":{"type":"string","minLength":1,"maxLength":24},
	"rating":{"type":"integer","minimum":1,"maximum":5},
	"tags":{"type":"array","items":{"type":"string","maxLength":10},"maxItems":3},
	"author":{"type":"object","properties":{"name":{"type":"string","maxLength":16},"verified":{"type":"boolean"}},
		"required":["name","verified"],"additionalProperties":false}},
	"required":["title","rating","tags","author"],"additionalProperties":false}`

// loadFormat is the response_format of the constrained requests.
var loadFormat = `{"type":"json_schema","json_schema":{"name":"review","strict":true,"schema":` + loadSchema + `}}`

// structuredCheck validates the constrained replies with the same schema,
// independently of the server.
type structuredCheck struct {
	schema *grammar.Schema

	mu                   sync.Mutex
	requests, cut, valid int
	invalid              []string
}

func newStructuredCheck() *structuredCheck {
	s, err := grammar.Compile([]byte(loadSchema), grammar.Options{Strict: true})
	if err != nil {
		panic(err) // a fixed schema
	}
	return &structuredCheck{schema: s}
}

// record checks one constrained reply: one that ended by itself must be
// JSON that validates; one cut by max_tokens is counted apart.
func (s *structuredCheck) record(text, finish string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	if finish == "length" {
		s.cut++
		return
	}
	if err := s.schema.Validate([]byte(text)); err != nil || !json.Valid([]byte(text)) {
		if len(s.invalid) < 3 {
			s.invalid = append(s.invalid, fmt.Sprintf("%q: %v", text, err))
		}
		return
	}
	s.valid++
}

func (s *structuredCheck) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("json_schema requests: %d, %d valid, %d cut by max_tokens, %d invalid", s.requests, s.valid, s.cut, len(s.invalid))
}
