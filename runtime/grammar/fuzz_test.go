package grammar

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

// closeByShortest completes m's document by always taking an allowed token
// with the smallest remaining length, and reports the text added and the
// tokens it took.
func closeByShortest(t *testing.T, m *Matcher, v *Vocab, pieces [][]byte, eos int32) (string, int) {
	var text []byte
	var allowed []int32
	for n := 1; n <= 4096; n++ {
		allowed = m.Allowed(v, m.MinRemaining()+2, allowed[:0])
		if len(allowed) == 0 {
			t.Fatalf("dead end: no token allowed after %q", text)
		}
		if slices.Contains(allowed, eos) {
			return string(text), n
		}
		best, bestLen := int32(-1), 0
		for _, id := range allowed {
			c := *m
			c.paths = slices.Clone(m.paths)
			c.levels = nil
			if !c.Advance(pieces[id]) {
				t.Fatalf("allowed token %q rejected", pieces[id])
			}
			if l := c.MinRemaining(); best < 0 || l < bestLen {
				best, bestLen = id, l
			}
		}
		m.Advance(pieces[best])
		text = append(text, pieces[best]...)
	}
	t.Fatalf("no end after 4096 tokens: %q", text)
	return "", 0
}

// FuzzMatcher feeds arbitrary bytes to a matcher for one of the test
// schemas. Whatever prefix it accepts must be completable (no dead ends)
// within the bytes MinRemaining promises, and every completed document
// must be JSON that validates.
func FuzzMatcher(f *testing.F) {
	names := make([]string, 0, len(testSchemas))
	for name := range testSchemas {
		names = append(names, name)
	}
	slices.Sort(names)
	for i, doc := range []string{`{"name":"Ann","age":42,"tags":["a"]}`, `{"p":0.3,"n":-2,"big":1000,"any":1e5}`,
		`{"kind":"circle","r":1}`, `{"v":1,"kids":[{"v":2}]}`, `{"a":true,"z":[{}]}`, `"ab"`, `{"q\"uote":"x\ny","é":"éé"}`} {
		f.Add(uint8(i), []byte(doc))
	}
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	schemas := map[string]*Schema{}
	for _, name := range names {
		schemas[name] = mustCompile(f, testSchemas[name], true)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		s := schemas[names[int(which)%len(names)]]
		m := s.NewMatcher()
		n := 0
		for n < len(data) && m.Advance(data[n:n+1]) {
			n++
		}
		if n == len(data) && m.Complete() {
			if err := s.Validate(data); err != nil || !json.Valid(data) {
				t.Fatalf("complete document %q does not validate: %v", data, err)
			}
		}
		promised := m.MinRemaining()
		rest, tokens := closeByShortest(t, m, v, pieces, eog[0])
		doc := append(slices.Clone(data[:n]), rest...)
		if err := s.Validate(doc); err != nil {
			t.Fatalf("completion %q does not validate: %v", doc, err)
		}
		if tokens-1 > promised {
			t.Fatalf("completing %q took %d tokens, MinRemaining promised %d bytes", data[:n], tokens-1, promised)
		}
	})
}

// FuzzCompile compiles arbitrary schemas: never a panic, and a schema that
// compiles yields valid documents.
func FuzzCompile(f *testing.F) {
	for _, src := range testSchemas {
		f.Add([]byte(src))
	}
	f.Add([]byte(`{"type":"integer","minimum":-5,"exclusiveMaximum":1e3}`))
	f.Add([]byte(`{"type":"array","items":{"anyOf":[{"type":"string","maxLength":0},{"const":[1]}]},"minItems":2}`))
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile(src, Options{Strict: true})
		if err != nil {
			return
		}
		rng := rand.New(rand.NewPCG(uint64(len(src)), 7))
		m := s.NewMatcher()
		need := m.MinRemaining()
		if need > 2000 {
			return // a valid but huge minimal document; not worth walking
		}
		doc, ended := generate(t, s, v, pieces, eog[0], need+8, rng)
		if !ended {
			t.Fatalf("no end within %d tokens: %q", need+8, doc)
		}
		if err := s.Validate([]byte(doc)); err != nil {
			t.Fatalf("%s: generated %q: %v", src, doc, err)
		}
	})
}
