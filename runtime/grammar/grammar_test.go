package grammar

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// testSchemas are the schemas the table, the random walks and the fuzz
// test share, by name.
var testSchemas = map[string]string{
	"person": `{"type":"object","properties":{
		"name":{"type":"string","minLength":1,"maxLength":8},
		"age":{"type":"integer","minimum":0,"maximum":150},
		"email":{"type":"string"},
		"tags":{"type":"array","items":{"type":"string","enum":["a","b","c"]},"minItems":1,"maxItems":3}},
		"required":["name","age","tags"],"additionalProperties":false}`,
	"numbers": `{"type":"object","properties":{
		"p":{"type":"number","minimum":0.25,"exclusiveMaximum":0.75},
		"n":{"type":"integer","exclusiveMinimum":-3,"maximum":-1},
		"big":{"type":"number","minimum":1000},
		"any":{"type":"number"}},"required":["p","n","big","any"],"additionalProperties":false}`,
	"anyof": `{"anyOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},"required":["kind","r"],"additionalProperties":false},
		{"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"integer"}},"required":["kind","side"],"additionalProperties":false},
		{"type":"null"}]}`,
	"tree": `{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{
		"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},
		"required":["v"],"additionalProperties":false}}}`,
	"open":   `{"type":"object","properties":{"a":{"type":"boolean"}},"required":["a"],"additionalProperties":true}`,
	"types":  `{"type":["string","null","array"],"items":{"type":["number","boolean"]},"maxLength":3}`,
	"escape": `{"type":"object","properties":{"q\"uote":{"const":"x\ny"},"é":{"type":"string","minLength":2}},"required":["q\"uote","é"],"additionalProperties":false}`,
}

func mustCompile(t testing.TB, src string, strict bool) *Schema {
	t.Helper()
	s, err := Compile([]byte(src), Options{Strict: strict})
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	return s
}

func TestMatcherDocuments(t *testing.T) {
	tests := []struct {
		schema   string // a testSchemas name, or a schema
		doc      string
		prefix   bool // doc is a valid prefix
		complete bool // doc is a whole valid document
		// stricter: the matcher refuses a document that is valid JSON
		// and valid against the schema (a spelling it never produces).
		stricter bool
	}{
		{"person", `{"name":"Ann","age":42,"tags":["a"]}`, true, true, false},
		{"person", `{ "tags" : [ "b" , "c" ] , "age" : 0 , "name" : "Z" }`, true, true, false},
		{"person", `{ "tags" :  [ "b" ] , "age" : 0 , "name" : "Z" }`, false, false, true},
		{"person", `{"name":"Ann","age":42}`, false, false, false},                       // tags required
		{"person", `{"name":"Ann","age":42,"tags":["a"],"x":1}`, false, false, false},    // no additional properties
		{"person", `{"name":"","age":1,"tags":["a"]}`, false, false, false},              // minLength
		{"person", `{"name":"123456789","age":1,"tags":["a"]}`, false, false, false},     // maxLength
		{"person", `{"name":"A","age":151,"tags":["a"]}`, false, false, false},           // maximum
		{"person", `{"name":"A","age":1.5,"tags":["a"]}`, false, false, false},           // integer
		{"person", `{"name":"A","age":1,"tags":[]}`, false, false, false},                // minItems
		{"person", `{"name":"A","age":1,"tags":["a","a","a","a"]}`, false, false, false}, // maxItems
		{"person", `{"name":"A","age":1,"tags":["d"]}`, false, false, false},             // enum
		{"person", `{"name":"A","name":"B"`, false, false, false},                        // duplicate key
		{"person", `{"name":"A","age":1,"tags":["a"]} `, false, false, true},             // nothing after the document
		{"person", `{"name":"Ann","age":4`, true, false, false},
		{"person", `{"em`, true, false, false},
		{"person", `{"name":"\u00e9\n","age":1,"tags":["a"]}`, true, true, false},
		{"person", `{"name":"\ud800","age":1,"tags":["a"]}`, false, false, true},                        // lone surrogate escape
		{"person", "{\"name\":\"\xff\",\"age\":1,\"tags\":[\"a\"]}", false, false, true},                // invalid UTF-8
		{"person", "{\"name\":\"\xc3\xa9\xe2\x82\xac\",\"age\":1,\"tags\":[\"a\"]}", true, true, false}, // é€
		{"person", "{\"name\":\"a\tb\",\"age\":1,\"tags\":[\"a\"]}", false, false, false},               // raw control character
		{"person", "{\n" + strings.Repeat(" ", MaxIndent) + `"name":"A","age":1,"tags":["a"]}`, true, true, false},
		{"person", "{\n" + strings.Repeat("\t", MaxIndent+1), false, false, true},
		{"person", "{\n\t\"name\" :\n  \"A\",\n \"age\": 1 ,\"tags\":[\n\"a\"\n]\n}", true, true, false},
		{"person", `{  "name":"A","age":1,"tags":["a"]}`, false, false, true},
		{"person", "{\r\n\"name\":\"A\",\"age\":1,\"tags\":[\"a\"]}", false, false, true},
		{"person", "{\n\n\"name\":\"A\",\"age\":1,\"tags\":[\"a\"]}", false, false, true},
		{"numbers", `{"p":0.25,"n":-2,"big":1000,"any":-1.5e+10}`, true, true, false},
		{"numbers", `{"p":0.75`, false, false, false}, // excluded, and every longer number is larger
		{"numbers", `{"p":0.75,`, false, false, false},
		{"numbers", `{"p":0.8`, false, false, false},
		{"numbers", `{"p":1`, false, false, false},
		{"numbers", `{"p":0.3,"n":-3`, false, false, false},
		{"numbers", `{"p":0.3,"n":-1,"big":999`, true, false, false}, // 9990 is fine
		{"numbers", `{"p":0.3,"n":-1,"big":999,`, false, false, false},
		{"numbers", `{"p":0.3,"n":-1,"big":1e4`, false, false, false}, // no exponent where bounds are checked
		{"numbers", `{"p":0.3,"n":-1,"big":1000,"any":01`, false, false, false},
		{"numbers", `{"p":0.3,"n":-1,"big":1000,"any":-0.0}`, true, true, false},
		{"anyof", `{"kind":"circle","r":1.5}`, true, true, false},
		{"anyof", `{"kind":"square","side":2}`, true, true, false},
		{"anyof", `{"kind":"square","r":2}`, false, false, false},
		{"anyof", `null`, true, true, false},
		{"anyof", `nul`, true, false, false},
		{"tree", `{"v":1,"kids":[{"v":2},{"v":3,"kids":[]}]}`, true, true, false},
		{"tree", `{"v":1,"kids":[{"v":2},{"v":3},{"v":4}]}`, false, false, false},
		{"open", `{"a":true,"other":{"x":[1,"y",null]}}`, true, true, false},
		{"open", `{"a":true,"a":false}`, false, false, true},
		{"open", `{"b\u0061":1`, false, false, false}, // no escapes in additional names
		{"types", `"abc"`, true, true, false},
		{"types", `"abcd"`, false, false, false},
		{"types", `[1,true,2.5]`, true, true, false},
		{"types", `[null]`, false, false, false},
		{"types", `null`, true, true, false},
		{"escape", `{"q\"uote":"x\ny","é":"ab"}`, true, true, false},
		{"escape", `{"q\"uote":"x\u000ay"`, false, false, true}, // const spelled canonically
		{`{"type":"object"}`, `{}`, true, true, false},
		{`{"type":"object"}`, `{"a":1}`, true, true, false}, // strict closes only objects that list properties
		{`{"type":"object","properties":{"b":{}}}`, `{"a":1}`, false, false, false},
		{`{"enum":[1,12,"x",[1,2],{"b":1,"a":2}]}`, `12`, true, true, false},
		{`{"enum":[1,12,"x",[1,2],{"b":1,"a":2}]}`, `1`, true, true, false},
		{`{"enum":[1,12,"x",[1,2],{"b":1,"a":2}]}`, `{"a":2,"b":1}`, true, true, false},
		{`{"enum":[1,12,"x",[1,2],{"b":1,"a":2}]}`, `13`, false, false, false},
		{`{"type":"array","items":{"type":"boolean"},"maxItems":0}`, `[]`, true, true, false},
		{`{"type":"array","items":{"type":"boolean"},"maxItems":0}`, `[t`, false, false, false},
		{`{"type":"string","enum":["a",1]}`, `1`, false, false, false}, // enum values are filtered by type
	}
	for _, tc := range tests {
		src := testSchemas[tc.schema]
		if src == "" {
			src = tc.schema
		}
		s := mustCompile(t, src, true)
		m := s.NewMatcher()
		prefix := m.Advance([]byte(tc.doc))
		complete := prefix && m.Complete()
		if prefix != tc.prefix || complete != tc.complete {
			t.Errorf("%s: %s: prefix %v complete %v, want %v %v", tc.schema, tc.doc, prefix, complete, tc.prefix, tc.complete)
		}
		// The validator agrees on whole documents.
		if json.Valid([]byte(tc.doc)) {
			if err := s.Validate([]byte(tc.doc)); (err == nil) != (tc.complete || tc.stricter) {
				t.Errorf("%s: %s: Validate = %v, matcher complete = %v", tc.schema, tc.doc, err, tc.complete)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		schema, keyword string
	}{
		{`{"type":"string","pattern":"^a"}`, "pattern"},
		{`{"type":"string","format":"email"}`, "format"},
		{`{"oneOf":[{"type":"string"}]}`, "oneOf"},
		{`{"allOf":[{"type":"string"}]}`, "allOf"},
		{`{"type":"object","properties":{"a":{"not":{}}}}`, "not"},
		{`{"type":"thing"}`, "type"},
		{`{"type":"integer","minimum":2,"maximum":1}`, "maximum"},
		{`{"type":"integer","minimum":1.2,"maximum":1.8}`, "maximum"},
		{`{"type":"string","minLength":3,"maxLength":2}`, "maxLength"},
		{`{"type":"array","minItems":-1}`, "minItems"},
		{`{"type":"array","items":[{"type":"string"}]}`, "items"},
		{`{"$ref":"http://example.com/s.json"}`, "$ref"},
		{`{"$ref":"#/$defs/missing"}`, "$ref"},
		{`{"type":"object","required":["x"]}`, "required"},
		{`{"enum":[]}`, "enum"},
		{`{"type":"string","const":3}`, "const"},
		{`{"anyOf":[{"type":"string"}],"type":"string"}`, "type"},
		{`{"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]}`, ""}, // infinite
		{`[1]`, ""},
		{`{`, ""},
	}
	for _, tc := range tests {
		_, err := Compile([]byte(tc.schema), Options{Strict: true})
		var se *SchemaError
		if !errors.As(err, &se) {
			t.Errorf("%s: err = %v, want a *SchemaError", tc.schema, err)
			continue
		}
		if se.Keyword != tc.keyword {
			t.Errorf("%s: keyword %q (%v), want %q", tc.schema, se.Keyword, err, tc.keyword)
		}
	}
}

// testVocab is a byte-level vocabulary with multi-byte tokens that cross
// JSON's structure, as real BPE vocabularies have: every byte, then
// pieces such as `":"` and `"},{"`.
func testVocab() ([][]byte, []int32) {
	var pieces [][]byte
	for b := range 256 {
		pieces = append(pieces, []byte{byte(b)})
	}
	for _, s := range []string{`{"`, `":"`, `":`, `","`, `"}`, `},{"`, `"]`, `["`, `true`, `null`, `false`,
		`name`, `age`, `tags`, ` "`, `  `, "\n", "\n  ", `12`, `0.`, `-1`, `e+`, `kind`, `circle`, `square`,
		`"kind":"`, `é`, `\u00`, `\n`, `\"`, `"a"`, `ab`, `abc`, `abcdefgh`, "\xe2\x82", "\xac"} {
		pieces = append(pieces, []byte(s))
	}
	eos := int32(len(pieces))
	pieces = append(pieces, nil) // the end-of-generation token has no text
	return pieces, []int32{eos}
}

// generate samples a document token by token from Allowed with random
// choices, as a random-weight model would, and returns its text and
// whether it ended with the end-of-generation token.
func generate(t testing.TB, s *Schema, v *Vocab, pieces [][]byte, eos int32, budget int, rng *rand.Rand) (string, bool) {
	m := s.NewMatcher()
	var text []byte
	var allowed []int32
	for n := 0; budget <= 0 || n < budget; n++ {
		left := 0
		if budget > 0 {
			left = budget - n
		}
		allowed = m.Allowed(v, left, allowed[:0])
		if len(allowed) == 0 {
			t.Fatalf("no token allowed after %q", text)
		}
		id := allowed[rng.IntN(len(allowed))]
		if id == eos {
			return string(text), true
		}
		if !m.AcceptToken(v, pieces[id], id) {
			t.Fatalf("allowed token %q rejected after %q", pieces[id], text)
		}
		text = append(text, pieces[id]...)
	}
	return string(text), false
}

func TestRandomWalksValidate(t *testing.T) {
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	rng := rand.New(rand.NewPCG(1, 2))
	for name, src := range testSchemas {
		for _, strict := range []bool{true, false} {
			s := mustCompile(t, src, strict)
			for i := range 40 {
				budget := 40 + i*5
				doc, ended := generate(t, s, v, pieces, eog[0], budget, rng)
				if !ended {
					t.Errorf("%s: no end within %d tokens: %q", name, budget, doc)
					continue
				}
				if !json.Valid([]byte(doc)) {
					t.Errorf("%s: not JSON: %q", name, doc)
					continue
				}
				if err := s.Validate([]byte(doc)); err != nil {
					t.Errorf("%s: %q: %v", name, doc, err)
				}
			}
		}
	}
}

// TestBudgetSteersToClose checks that a reply is steered to its end: with
// a budget just above the shortest completion, random choices still end
// in a valid document, within the budget.
func TestBudgetSteersToClose(t *testing.T) {
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	rng := rand.New(rand.NewPCG(3, 4))
	for name, src := range testSchemas {
		s := mustCompile(t, src, true)
		need := s.NewMatcher().MinRemaining()
		for _, extra := range []int{1, 2, 5, 20} {
			for range 10 {
				doc, ended := generate(t, s, v, pieces, eog[0], need+extra, rng)
				if !ended {
					t.Errorf("%s: budget %d (shortest %d): no end: %q", name, need+extra, need, doc)
					continue
				}
				if err := s.Validate([]byte(doc)); err != nil {
					t.Errorf("%s: %q: %v", name, doc, err)
				}
			}
		}
	}
}

func TestAnyObject(t *testing.T) {
	s := AnyObject()
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50 {
		doc, ended := generate(t, s, v, pieces, eog[0], 60, rng)
		var obj map[string]any
		if !ended || json.Unmarshal([]byte(doc), &obj) != nil {
			t.Errorf("not an object: %q (ended %v)", doc, ended)
		}
	}
	for _, doc := range []string{`[]`, `"x"`, `1`} {
		if s.NewMatcher().Advance([]byte(doc)) {
			t.Errorf("%s accepted as an object", doc)
		}
	}
}

func TestAllowedEndOnlyWhenComplete(t *testing.T) {
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	s := mustCompile(t, testSchemas["person"], true)
	m := s.NewMatcher()
	has := func(ids []int32, id int32) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	if has(m.Allowed(v, 0, nil), eog[0]) {
		t.Error("end allowed at the start")
	}
	doc := `{"name":"A","age":1,"tags":["a"]}`
	if !m.Advance([]byte(doc[:len(doc)-1])) || has(m.Allowed(v, 0, nil), eog[0]) {
		t.Error("end allowed before the closing brace")
	}
	allowed := m.Allowed(v, 0, nil)
	if !has(allowed, '}') || has(allowed, '{') || has(allowed, int32(len(pieces)-2)) {
		t.Errorf("after %q: allowed %v", doc[:len(doc)-1], allowed)
	}
	if !m.Advance([]byte("}")) || !has(m.Allowed(v, 0, nil), eog[0]) || len(m.Allowed(v, 0, nil)) != 1 {
		t.Errorf("after the document: allowed %v, want only the end", m.Allowed(v, 0, nil))
	}
}

// TestAllowedMatchesBruteForce checks the trie walk and the string fast
// path against feeding every token's piece to a copy of the matcher.
func TestAllowedMatchesBruteForce(t *testing.T) {
	pieces, eog := bigVocab(6000)
	v := NewVocab(pieces, eog)
	for _, tc := range []struct{ schema, prefix string }{
		{"person", ``},
		{"person", `{"name":"Ab`},
		{"person", `{"name":"Ab","email":"x`},
		{"person", `{"name":"Ab","ag`},
		{"person", `{"name":"Ab","age":1`},
		{"open", `{"a":true,"x":"`},
		{"open", `{"a":true,"x`},
		{"escape", `{"é":"`},
		{"anyof", `{"kind":"`},
		{"types", `"`},
	} {
		s := mustCompile(t, testSchemas[tc.schema], true)
		m := s.NewMatcher()
		if !m.Advance([]byte(tc.prefix)) {
			t.Fatalf("%s: prefix %q rejected", tc.schema, tc.prefix)
		}
		got := map[int32]bool{}
		for _, id := range m.Allowed(v, 0, nil) {
			got[id] = true
		}
		for id, p := range pieces {
			c := s.NewMatcher()
			want := c.Advance([]byte(tc.prefix)) && len(p) > 0 && c.Advance(p)
			if got[int32(id)] != want {
				t.Errorf("%s after %q: token %q allowed %v, brute force %v", tc.schema, tc.prefix, p, got[int32(id)], want)
			}
		}
	}
}

func TestCalls(t *testing.T) {
	weather := mustCompile(t, `{"type":"object","properties":{"city":{"type":"string","maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"],"additionalProperties":false}`, true)
	none := mustCompile(t, `{"type":"object","properties":{}}`, true)
	funcs := []Function{{"get_weather", weather}, {"now", none}}
	tests := []struct {
		parallel bool
		doc      string
		ok       bool
	}{
		{true, `[{"name":"get_weather","arguments":{"city":"Paris","unit":"c"}}]`, true},
		{true, `[{"name":"now","arguments":{}}, {"name":"now","arguments":{}}]`, true},
		{false, `[{"name":"now","arguments":{}},{"name":"now","arguments":{}}]`, false},
		{true, `[{"arguments":{},"name":"now"}]`, false}, // the name comes first
		{true, `[{"name":"now","arguments":{"x":1}}]`, false},
		{true, `[{"name":"later","arguments":{}}]`, false},
		{true, `[]`, false},
	}
	for _, tc := range tests {
		m := Calls(funcs, tc.parallel).NewMatcher()
		if ok := m.Advance([]byte(tc.doc)) && m.Complete(); ok != tc.ok {
			t.Errorf("parallel %v: %s: accepted %v, want %v", tc.parallel, tc.doc, ok, tc.ok)
		}
	}
	pieces, eog := testVocab()
	v := NewVocab(pieces, eog)
	rng := rand.New(rand.NewPCG(11, 12))
	s := Calls(funcs, true)
	for range 30 {
		doc, ended := generate(t, s, v, pieces, eog[0], 120, rng)
		var calls []struct {
			Name      string
			Arguments json.RawMessage
		}
		if !ended || json.Unmarshal([]byte(doc), &calls) != nil || len(calls) == 0 {
			t.Fatalf("not a list of calls: %q", doc)
		}
		for _, c := range calls {
			p := weather
			if c.Name == "now" {
				p = none
			}
			if err := p.Validate(c.Arguments); err != nil {
				t.Errorf("%s arguments %s: %v", c.Name, c.Arguments, err)
			}
		}
	}
}
