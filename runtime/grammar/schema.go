package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Value kinds a node may take, as a bit set.
const (
	tNull uint8 = 1 << iota
	tBool
	tObject
	tArray
	tString
	tInteger // integers only; tNumber includes them
	tNumber
	tAll = tNull | tBool | tObject | tArray | tString | tNumber
)

// maxProps bounds the properties of one object schema: seen and required
// properties are tracked in 64-bit sets.
const maxProps = 64

// maxNumberDigits bounds the digits of an integer or fraction part and
// maxExpDigits those of an exponent, so that every number ends (and fits a
// float64 closely enough for bounds to be checked).
const (
	maxNumberDigits = 15
	maxExpDigits    = 2
)

// infinite stands for "no finite completion" in length computations.
const infinite = math.MaxInt32 / 4

// node is one compiled schema: the set of JSON values it accepts.
type node struct {
	types uint8 // kinds allowed when the node is neither a literal nor a union

	// Objects.
	props    []prop // sorted by enc, so that a key prefix selects a range
	required uint64 // bit i: props[i] is required
	addl     *node  // schema of other properties; nil: none allowed
	ordered  bool   // all properties, in seq order (tool-call envelopes)
	seq      []int  // declared order of props when ordered

	// Arrays.
	items              *node
	minItems, maxItems int // maxItems < 0: unbounded

	// Strings, counted in Unicode code points as JSON Schema does.
	minLen, maxLen int // maxLen < 0: unbounded

	// Numbers.
	lo, hi     float64 // -Inf, +Inf when unbounded
	loEx, hiEx bool    // exclusive bounds

	// Literals (enum, const, true/false/null): the canonical encodings,
	// sorted, so that a prefix selects a range.
	lits [][]byte

	// Unions (anyOf, type lists with per-type keywords).
	alts []*node

	minSize int // bytes of the shortest accepted value
}

type prop struct {
	name string
	enc  []byte // the name JSON-encoded, without its quotes
	n    *node
}

// Schema is a compiled JSON Schema: the language of JSON documents that a
// Matcher accepts.
type Schema struct {
	root  *node
	nodes []*node
}

// SchemaError is a schema this package cannot compile: an unsupported
// keyword, a malformed value, or a schema no document satisfies. Keyword
// names the keyword and Path the JSON pointer of the schema holding it.
type SchemaError struct {
	Keyword string
	Path    string
	Msg     string
}

// Error says which keyword, where, and why.
func (e *SchemaError) Error() string {
	at := e.Path
	if at == "" {
		at = "the root"
	}
	if e.Keyword == "" {
		return fmt.Sprintf("schema at %s: %s", at, e.Msg)
	}
	return fmt.Sprintf("schema keyword '%s' at %s: %s", e.Keyword, at, e.Msg)
}

// Options change how a schema is compiled.
type Options struct {
	// Strict makes additionalProperties default to false in schemas that
	// have the properties keyword (even empty), as OpenAI's strict structured outputs require;
	// otherwise it defaults to JSON Schema's true (any other property,
	// with any value).
	Strict bool
}

// annotations are keywords that assert nothing and are skipped.
var annotations = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true,
	"$schema": true, "$id": true, "$comment": true, "deprecated": true,
	"readOnly": true, "writeOnly": true, "$defs": true, "definitions": true,
}

// AnyObject is the schema of {"type": "json_object"}: any JSON object.
func AnyObject() *Schema {
	c := &compiler{}
	any := c.anyNode()
	obj := c.newNode()
	obj.types = tObject
	obj.addl = any
	obj.maxItems = -1
	obj.maxLen = -1
	s, err := c.finish(obj)
	if err != nil {
		panic(err) // a fixed schema that always compiles
	}
	return s
}

// Compile compiles a JSON Schema document. Supported keywords: type (a
// name or a list), properties, required, additionalProperties, enum, const,
// items, minItems, maxItems, minLength, maxLength, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum, anyOf, $ref to "#", "#/$defs/…" or
// "#/definitions/…", and the annotations (title, description, default, …).
// Anything else is a *SchemaError naming the keyword.
func Compile(doc []byte, opt Options) (*Schema, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, &SchemaError{Msg: "not valid JSON: " + err.Error()}
	}
	c := &compiler{opt: opt, doc: raw, refs: map[string]*node{}}
	root, err := c.compile(raw, "")
	if err != nil {
		return nil, err
	}
	return c.finish(root)
}

type compiler struct {
	opt   Options
	doc   any
	refs  map[string]*node
	nodes []*node
	any   *node
}

func (c *compiler) newNode() *node {
	n := &node{maxItems: -1, maxLen: -1, lo: math.Inf(-1), hi: math.Inf(1)}
	c.nodes = append(c.nodes, n)
	return n
}

// anyNode accepts every JSON value.
func (c *compiler) anyNode() *node {
	if c.any == nil {
		c.any = c.newNode()
		c.any.types = tAll
		c.any.addl = c.any
		c.any.items = c.any
	}
	return c.any
}

// finish computes the shortest value of every node (a fixed point, since
// schemas may be recursive) and rejects schemas nothing satisfies.
func (c *compiler) finish(root *node) (*Schema, error) {
	for _, n := range c.nodes {
		n.minSize = infinite
	}
	for changed := true; changed; {
		changed = false
		for _, n := range c.nodes {
			if m := n.computeMinSize(); m < n.minSize {
				n.minSize, changed = m, true
			}
		}
	}
	if root.minSize >= infinite {
		return nil, &SchemaError{Msg: "no JSON value satisfies this schema"}
	}
	return &Schema{root: root, nodes: c.nodes}, nil
}

func (c *compiler) compile(v any, path string) (*node, error) {
	switch s := v.(type) {
	case bool:
		if !s {
			return nil, &SchemaError{Path: path, Msg: "the schema false accepts nothing"}
		}
		return c.anyNode(), nil
	case map[string]any:
		return c.compileObject(s, path)
	}
	return nil, &SchemaError{Path: path, Msg: "a schema must be an object or a boolean"}
}

func (c *compiler) compileObject(s map[string]any, path string) (*node, error) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "type", "properties", "required", "additionalProperties", "enum", "const", "items",
			"minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum",
			"exclusiveMinimum", "exclusiveMaximum", "anyOf", "$ref":
		default:
			if !annotations[k] {
				return nil, &SchemaError{Keyword: k, Path: path, Msg: "is not supported"}
			}
		}
	}
	if ref, ok := s["$ref"]; ok {
		for _, k := range keys {
			if k != "$ref" && !annotations[k] {
				return nil, &SchemaError{Keyword: k, Path: path, Msg: "cannot be combined with $ref"}
			}
		}
		return c.ref(ref, path)
	}
	if alts, ok := s["anyOf"]; ok {
		for _, k := range keys {
			if k != "anyOf" && !annotations[k] {
				return nil, &SchemaError{Keyword: k, Path: path, Msg: "cannot be combined with anyOf; move it into each alternative"}
			}
		}
		list, ok := alts.([]any)
		if !ok || len(list) == 0 {
			return nil, &SchemaError{Keyword: "anyOf", Path: path, Msg: "must be a non-empty array of schemas"}
		}
		n := c.newNode()
		for i, a := range list {
			an, err := c.compile(a, fmt.Sprintf("%s/anyOf/%d", path, i))
			if err != nil {
				return nil, err
			}
			n.alts = append(n.alts, an)
		}
		return n, nil
	}

	n := c.newNode()
	n.types = tAll
	if t, ok := s["type"]; ok {
		types, err := parseTypes(t, path)
		if err != nil {
			return nil, err
		}
		n.types = types
	}
	if err := c.objectKeywords(n, s, path); err != nil {
		return nil, err
	}
	if err := c.arrayKeywords(n, s, path); err != nil {
		return nil, err
	}
	if err := stringKeywords(n, s, path); err != nil {
		return nil, err
	}
	if err := numberKeywords(n, s, path); err != nil {
		return nil, err
	}
	_, hasEnum := s["enum"]
	_, hasConst := s["const"]
	if hasEnum || hasConst {
		return c.literals(n, s, path)
	}
	return n, nil
}

func parseTypes(t any, path string) (uint8, error) {
	names := []any{t}
	if list, ok := t.([]any); ok {
		names = list
	}
	var types uint8
	for _, name := range names {
		switch name {
		case "null":
			types |= tNull
		case "boolean":
			types |= tBool
		case "object":
			types |= tObject
		case "array":
			types |= tArray
		case "string":
			types |= tString
		case "integer":
			types |= tInteger
		case "number":
			types |= tNumber
		default:
			return 0, &SchemaError{Keyword: "type", Path: path, Msg: fmt.Sprintf("unknown type %v", name)}
		}
	}
	if types == 0 {
		return 0, &SchemaError{Keyword: "type", Path: path, Msg: "lists no type"}
	}
	return types, nil
}

func (c *compiler) objectKeywords(n *node, s map[string]any, path string) error {
	if n.types&tObject == 0 {
		return nil
	}
	props := map[string]any{}
	p, hasProps := s["properties"]
	if hasProps {
		var ok bool
		if props, ok = p.(map[string]any); !ok {
			return &SchemaError{Keyword: "properties", Path: path, Msg: "must be an object"}
		}
	}
	if len(props) > maxProps {
		return &SchemaError{Keyword: "properties", Path: path, Msg: fmt.Sprintf("has %d properties; at most %d are supported", len(props), maxProps)}
	}
	for name, ps := range props {
		pn, err := c.compile(ps, path+"/properties/"+escapePointer(name))
		if err != nil {
			return err
		}
		n.props = append(n.props, prop{name: name, enc: encodeString(name), n: pn})
	}
	slices.SortFunc(n.props, func(a, b prop) int { return bytes.Compare(a.enc, b.enc) })
	if r, ok := s["required"]; ok {
		list, ok := r.([]any)
		if !ok {
			return &SchemaError{Keyword: "required", Path: path, Msg: "must be an array of property names"}
		}
		for _, v := range list {
			name, ok := v.(string)
			i := slices.IndexFunc(n.props, func(p prop) bool { return p.name == name })
			if !ok || i < 0 {
				return &SchemaError{Keyword: "required", Path: path, Msg: fmt.Sprintf("names %v, which is not among the properties", v)}
			}
			n.required |= 1 << i
		}
	}
	// Strict mode closes objects that declare their properties (even
	// none); an object schema without the keyword stays open.
	n.addl = c.anyNode()
	if c.opt.Strict && hasProps {
		n.addl = nil
	}
	if a, ok := s["additionalProperties"]; ok {
		switch a := a.(type) {
		case bool:
			n.addl = nil
			if a {
				n.addl = c.anyNode()
			}
		default:
			an, err := c.compile(a, path+"/additionalProperties")
			if err != nil {
				return err
			}
			n.addl = an
		}
	}
	return nil
}

func (c *compiler) arrayKeywords(n *node, s map[string]any, path string) error {
	if n.types&tArray == 0 {
		return nil
	}
	n.items = c.anyNode()
	if it, ok := s["items"]; ok {
		if _, isList := it.([]any); isList {
			return &SchemaError{Keyword: "items", Path: path, Msg: "tuple form (an array of schemas) is not supported"}
		}
		in, err := c.compile(it, path+"/items")
		if err != nil {
			return err
		}
		n.items = in
	}
	var err error
	if n.minItems, err = count(s, "minItems", 0, path); err != nil {
		return err
	}
	if n.maxItems, err = count(s, "maxItems", -1, path); err != nil {
		return err
	}
	if n.maxItems >= 0 && n.maxItems < n.minItems {
		return &SchemaError{Keyword: "maxItems", Path: path, Msg: "is below minItems"}
	}
	return nil
}

func stringKeywords(n *node, s map[string]any, path string) error {
	if n.types&tString == 0 {
		return nil
	}
	var err error
	if n.minLen, err = count(s, "minLength", 0, path); err != nil {
		return err
	}
	if n.maxLen, err = count(s, "maxLength", -1, path); err != nil {
		return err
	}
	if n.maxLen >= 0 && n.maxLen < n.minLen {
		return &SchemaError{Keyword: "maxLength", Path: path, Msg: "is below minLength"}
	}
	return nil
}

func numberKeywords(n *node, s map[string]any, path string) error {
	if n.types&(tNumber|tInteger) == 0 {
		return nil
	}
	bound := func(k string) (float64, bool, error) {
		v, ok := s[k]
		if !ok {
			return 0, false, nil
		}
		num, ok := v.(json.Number)
		if !ok {
			return 0, false, &SchemaError{Keyword: k, Path: path, Msg: "must be a number"}
		}
		f, err := num.Float64()
		if err != nil || math.IsInf(f, 0) {
			return 0, false, &SchemaError{Keyword: k, Path: path, Msg: "must be a finite number"}
		}
		return f, true, nil
	}
	for _, b := range []struct {
		key   string
		upper bool
		ex    bool
	}{{"minimum", false, false}, {"exclusiveMinimum", false, true}, {"maximum", true, false}, {"exclusiveMaximum", true, true}} {
		f, ok, err := bound(b.key)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if b.upper && (f < n.hi || f == n.hi && b.ex) {
			n.hi, n.hiEx = f, b.ex
		}
		if !b.upper && (f > n.lo || f == n.lo && b.ex) {
			n.lo, n.loEx = f, b.ex
		}
	}
	if n.lo > n.hi || n.lo == n.hi && (n.loEx || n.hiEx) {
		return &SchemaError{Keyword: "maximum", Path: path, Msg: "leaves no number above the minimum"}
	}
	if n.types&(tNumber|tInteger) == tInteger && math.Floor(n.hi) < math.Ceil(n.lo) {
		return &SchemaError{Keyword: "maximum", Path: path, Msg: "leaves no integer between the bounds"}
	}
	return nil
}

func count(s map[string]any, key string, def int, path string) (int, error) {
	v, ok := s[key]
	if !ok {
		return def, nil
	}
	num, ok := v.(json.Number)
	if ok {
		if i, err := strconv.ParseInt(num.String(), 10, 32); err == nil && i >= 0 && i <= 1<<20 {
			return int(i), nil
		}
	}
	return 0, &SchemaError{Keyword: key, Path: path, Msg: "must be a non-negative integer (at most 1048576)"}
}

// literals turns enum/const into a literal node holding the values that
// also satisfy the schema's other keywords.
func (c *compiler) literals(n *node, s map[string]any, path string) (*node, error) {
	var vals []any
	key := "enum"
	if e, ok := s["enum"]; ok {
		list, ok := e.([]any)
		if !ok || len(list) == 0 {
			return nil, &SchemaError{Keyword: "enum", Path: path, Msg: "must be a non-empty array"}
		}
		vals = list
	}
	if cv, ok := s["const"]; ok {
		key = "const"
		if vals != nil {
			if !slices.ContainsFunc(vals, func(v any) bool { return jsonEqual(v, cv) }) {
				vals = nil
			} else {
				vals = []any{cv}
			}
		} else {
			vals = []any{cv}
		}
	}
	lit := c.newNode()
	seen := map[string]bool{}
	for _, v := range vals {
		if n.validate(v) != nil {
			continue
		}
		b, err := canonical(v)
		if err != nil {
			return nil, &SchemaError{Keyword: key, Path: path, Msg: err.Error()}
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			lit.lits = append(lit.lits, b)
		}
	}
	if len(lit.lits) == 0 {
		return nil, &SchemaError{Keyword: key, Path: path, Msg: "no value satisfies the schema's other keywords"}
	}
	slices.SortFunc(lit.lits, bytes.Compare)
	return lit, nil
}

func (c *compiler) ref(v any, path string) (*node, error) {
	ref, ok := v.(string)
	if !ok {
		return nil, &SchemaError{Keyword: "$ref", Path: path, Msg: "must be a string"}
	}
	if n, ok := c.refs[ref]; ok {
		return n, nil
	}
	if ref != "#" && !strings.HasPrefix(ref, "#/$defs/") && !strings.HasPrefix(ref, "#/definitions/") {
		return nil, &SchemaError{Keyword: "$ref", Path: path, Msg: fmt.Sprintf("%q: only references into this document's $defs or definitions (or \"#\") are supported", ref)}
	}
	target := c.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ref, "#"), "/")[1:] {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := target.(map[string]any)
		if !ok {
			target = nil
			break
		}
		target = m[tok]
	}
	if target == nil {
		return nil, &SchemaError{Keyword: "$ref", Path: path, Msg: fmt.Sprintf("%q points to nothing", ref)}
	}
	// A placeholder union of one breaks cycles: a recursive reference
	// finds it in refs while its target is still being compiled.
	n := c.newNode()
	c.refs[ref] = n
	t, err := c.compile(target, strings.TrimPrefix(ref, "#"))
	if err != nil {
		return nil, err
	}
	n.alts = []*node{t}
	return n, nil
}

// computeMinSize is the length of the shortest value n accepts, from the
// current estimates of its children.
func (n *node) computeMinSize() int {
	if n.lits != nil {
		m := infinite
		for _, l := range n.lits {
			m = min(m, len(l))
		}
		return m
	}
	if n.alts != nil {
		m := infinite
		for _, a := range n.alts {
			m = min(m, a.minSize)
		}
		return m
	}
	m := infinite
	if n.types&tNull != 0 {
		m = min(m, 4)
	}
	if n.types&tBool != 0 {
		m = min(m, 4)
	}
	if n.types&tString != 0 {
		m = min(m, 2+n.minLen)
	}
	if n.types&(tNumber|tInteger) != 0 {
		m = min(m, numClose(n, numState{}))
	}
	if n.types&tArray != 0 && n.minItems < infinite {
		if n.minItems == 0 {
			m = min(m, 2)
		} else if n.items.minSize < infinite {
			m = min(m, 2+n.minItems*n.items.minSize+n.minItems-1)
		}
	}
	if n.types&tObject != 0 {
		m = min(m, 1+n.objectRest(0, true))
	}
	return min(m, infinite)
}

// objectRest is the shortest way to finish an object whose properties in
// seen are present, up to and including its '}': every missing required
// property with its shortest value. first says that no property was
// written yet, so no comma comes before the next one.
func (n *node) objectRest(seen uint64, first bool) int {
	total, k := 1, 0
	for i, p := range n.props {
		if n.required&(1<<i) == 0 || seen&(1<<i) != 0 {
			continue
		}
		if p.n.minSize >= infinite {
			return infinite
		}
		total += len(p.enc) + 3 + p.n.minSize
		k++
	}
	if k > 0 && first {
		k--
	}
	return total + k
}

func (n *node) inRange(v float64) bool {
	if v < n.lo || v == n.lo && n.loEx {
		return false
	}
	return !(v > n.hi || v == n.hi && n.hiEx)
}

func (n *node) bounded() bool { return !math.IsInf(n.lo, -1) || !math.IsInf(n.hi, 1) }

// encodeString is s JSON-encoded without its quotes and without HTML
// escaping: the one spelling of a property name the matcher accepts.
func encodeString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := bytes.TrimSpace(b.Bytes())
	return out[1 : len(out)-1]
}

// canonical encodes a decoded JSON value compactly, object keys sorted,
// without HTML escaping: the spelling of enum and const values.
func canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
