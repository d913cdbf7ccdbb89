package grammar_test

import (
	"fmt"

	"github.com/bitnet-go/bitnet/runtime/grammar"
)

// A model's sampling loop under a schema: mask, draw, advance. Here the
// "model" always prefers the lowest allowed token id, and the vocabulary is
// a few pieces plus an end-of-generation token.
func Example() {
	schema, err := grammar.Compile([]byte(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`),
		grammar.Options{Strict: true})
	if err != nil {
		panic(err)
	}
	pieces := [][]byte{[]byte(`{"`), []byte(`ok`), []byte(`":`), []byte(`true`), []byte(`}`), []byte(`x`), nil}
	const eos = 6
	vocab := grammar.NewVocab(pieces, []int32{eos})

	m := schema.NewMatcher()
	var text []byte
	for budget := 10; budget > 0; budget-- {
		allowed := m.Allowed(vocab, budget, nil)
		id := allowed[0]
		for _, a := range allowed {
			id = min(id, a)
		}
		if id == eos {
			break
		}
		m.AcceptToken(vocab, pieces[id], id)
		text = append(text, pieces[id]...)
	}
	fmt.Println(string(text), schema.Validate(text) == nil)
	// Output: {"ok":true} true
}
