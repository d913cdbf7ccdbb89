package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// The engine is github.com/ardanlabs/jinja v1.8.0, the last release that
// builds with Go 1.26, with trim_blocks and lstrip_blocks on as
// transformers sets them. This file adds what transformers provides around
// it (strftime_now, raise_exception, the sandbox's range limit) and rewrites
// the source where the engine departs from Jinja, each rewrite leaving the
// template's meaning in Jinja unchanged: tojson with arguments (tojson.go),
// whitespace control between touching tags, the template's last newline,
// and a depth guard on macros. test/jinja checks the result against
// @huggingface/jinja byte for byte.
//
// Known differences from Python's Jinja that remain, none in a published
// template of the corpus: null content concatenates as "" (Python raises,
// or prints None through | trim); map('filter') ignores the filter
// (map(attribute=...) works); "set a, b = ..." does not parse;
// str.startswith/endswith with a tuple are false; tojson with arguments on
// an operand other than a name (a literal, a parenthesised expression)
// keeps the engine's encoder. Booleans and lists print as Python prints
// them (True, ['a']), where @huggingface/jinja prints JSON (true, ["a"]).

// The engine looks for the text a tag's whitespace control applies to
// (trim_blocks, lstrip_blocks, "-") past any tags in between, where Jinja
// only touches the text right beside the tag: "{% if x %}{{ a }} {{ b }}"
// loses the space between a and b. separateTags puts a space between
// every two touching tags and at the start of a template that opens with
// a tag, with a "-" on the tag beside it so that the space is trimmed
// again: the engine then finds text (the space) beside every tag, and the
// output is Jinja's. (No newline is added, so line numbers stay right.)
var touchingTags = regexp.MustCompile(`-?(%\}|\}\}|#\})(\{[%{#])`)

// trimTrailingNewline drops one newline at the end of the source, as Jinja
// does unless keep_trailing_newline is set (transformers leaves it off);
// the engine keeps it.
func trimTrailingNewline(src string) string {
	if s, ok := strings.CutSuffix(src, "\r\n"); ok {
		return s
	}
	return strings.TrimSuffix(src, "\n")
}

func separateTags(src string) string {
	src = touchingTags.ReplaceAllString(src, "-$1 $2")
	if len(src) >= 2 && src[0] == '{' && (src[1] == '%' || src[1] == '{' || src[1] == '#') && !strings.HasPrefix(src[2:], "-") {
		src = " " + src[:2] + "-" + src[2:]
	} else if len(src) >= 2 && src[0] == '{' && (src[1] == '%' || src[1] == '{' || src[1] == '#') {
		src = " " + src
	}
	return src
}

// compile parses source, naming the template in errors.
func compile(name, source string) (tmpl *jinja.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chat template %s: the Jinja parser failed: %v", name, r)
		}
	}()
	src := separateTags(trimTrailingNewline(rewriteTojson(source)))
	src = guardMacros(src)
	tmpl, err = jinja.Compile(src)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jinja parse: "), "jinja scan: ")
		return nil, fmt.Errorf("chat template %s: %s", name, msg)
	}
	return tmpl, nil
}

// macroGuard is the global that every macro calls, through a default
// argument added to its signature (evaluated at each call), so that a
// macro recursing without end fails the rendering instead of overflowing
// the goroutine's stack, which would end the process. Recursion itself is
// legitimate (tool templates render nested JSON schemas that way).
const macroGuard = "__bitnet_macro_guard"

// maxRenderFrames bounds the Go call depth at which a macro may be entered:
// far beyond any real template's nesting (tens of frames per level), far
// below a stack overflow.
const maxRenderFrames = 5000

var macroStart = regexp.MustCompile(`\{%-?\s*macro\s+[A-Za-z_][A-Za-z0-9_]*\s*\(`)

// guardMacros adds "__bitnet_macro_guard=__bitnet_macro_guard()" as the
// last parameter of every macro definition whose parameter list it can
// delimit (balanced parentheses outside string literals).
func guardMacros(src string) string {
	var b strings.Builder
	last := 0
	for _, m := range macroStart.FindAllStringIndex(src, -1) {
		open := m[1] // just after "("
		end := closingParen(src, open)
		if end < 0 {
			continue
		}
		b.WriteString(src[last:end])
		if strings.TrimSpace(src[open:end]) != "" {
			b.WriteString(", ")
		}
		b.WriteString(macroGuard + "=" + macroGuard + "()")
		last = end
	}
	b.WriteString(src[last:])
	return b.String()
}

// closingParen returns the index of the ")" closing a parenthesis opened
// just before i, skipping string literals, or -1.
func closingParen(s string, i int) int {
	depth := 1
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return i
			}
		case '%', '}':
			if i+1 < len(s) && s[i+1] == '}' {
				return -1 // the tag ended first: not a parameter list we understand
			}
		}
	}
	return -1
}

func macroGuardFunc(_ []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if runtime.Callers(maxRenderFrames, make([]uintptr, 1)) > 0 {
		return jinja.Undefined(), errors.New("macros nest too deeply (endless recursion?)")
	}
	return jinja.None(), nil
}

// maxRange is the longest range() allowed, as in the sandboxed Jinja
// environment transformers renders chat templates in (MAX_RANGE): a
// template cannot make a request allocate without bound.
const maxRange = 100000

// rangeFunc is Python's range with the sandbox's limit.
func rangeFunc(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	var n [3]int64
	for i, a := range args {
		if i >= 3 || !a.IsInt() {
			return jinja.Undefined(), errors.New("range: want 1 to 3 integers")
		}
		n[i] = a.AsInt()
	}
	start, stop, step := int64(0), n[0], int64(1)
	switch len(args) {
	case 0:
		return jinja.Undefined(), errors.New("range: want 1 to 3 integers")
	case 2:
		start, stop = n[0], n[1]
	case 3:
		start, stop, step = n[0], n[1], n[2]
	}
	if step == 0 {
		return jinja.Undefined(), errors.New("range: step must not be zero")
	}
	count := int64(0)
	if step > 0 && stop > start {
		count = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		count = (start - stop - step - 1) / -step
	}
	if count > maxRange {
		return jinja.Undefined(), fmt.Errorf("range of %d items is longer than the %d allowed", count, maxRange)
	}
	items := make([]jinja.Value, count)
	for i := range items {
		items[i] = jinja.NewInt(start + int64(i)*step)
	}
	return jinja.NewList(items), nil
}

// raiseError is raise_exception's error: the template's own message.
type raiseError struct{ msg string }

func (e *raiseError) Error() string { return e.msg }

func raiseException(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	msg := "raise_exception called"
	if len(args) > 0 && args[0].IsString() {
		msg = args[0].AsString()
	}
	return jinja.Undefined(), &raiseError{msg}
}

// render runs the compiled template; a panic in the engine (it asserts
// types in places) becomes an error rather than taking the server down.
func (c *compiled) render(ctx map[string]jinja.Value) (out string, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("chat template %s: rendering failed: %v", c.name, r)
		}
	}()
	out, err = c.tmpl.RenderValues(ctx)
	if err == nil {
		return out, nil
	}
	var re *raiseError
	if errors.As(err, &re) {
		if line := lineOf(c.source, re.msg); line > 0 {
			return "", fmt.Errorf("chat template %s: line %d: raise_exception: %s", c.name, line, re.msg)
		}
		return "", fmt.Errorf("chat template %s: raise_exception: %s", c.name, re.msg)
	}
	return "", fmt.Errorf("chat template %s: %w", c.name, err)
}

// lineOf is the 1-based line of the only occurrence of msg in source, or 0
// when it occurs zero or several times: the engine does not report lines
// at render time, and a raise_exception message is usually a literal.
func lineOf(source, msg string) int {
	if msg == "" {
		return 0
	}
	i := strings.Index(source, msg)
	if i < 0 || strings.Contains(source[i+1:], msg) {
		return 0
	}
	return strings.Count(source[:i], "\n") + 1
}

// jsonValue converts JSON to an engine value, keeping the order of object
// keys (Python dicts keep insertion order, and tojson prints it).
func jsonValue(raw []byte) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return jinja.Value{}, err
	}
	if dec.More() {
		return jinja.Value{}, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Value{}, err
	}
	switch x := tok.(type) {
	case json.Delim:
		if x == '[' {
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Value{}, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return jinja.NewList(items), err
		}
		d := jinja.NewDict()
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return jinja.Value{}, err
			}
			v, err := decodeValue(dec)
			if err != nil {
				return jinja.Value{}, err
			}
			d.AsDict().Set(k.(string), v)
		}
		_, err := dec.Token()
		return d, err
	case nil:
		return jinja.None(), nil
	case bool:
		return jinja.NewBool(x), nil
	case string:
		return jinja.NewString(x), nil
	case json.Number:
		return jinja.FromGoValue(x), nil
	}
	return jinja.Value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// strftimeNow is transformers' strftime_now, fixed to the instant now so
// that one rendering reads the clock once.
func strftimeNow(now time.Time) jinja.Value {
	return jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) != 1 || !args[0].IsString() {
			return jinja.Undefined(), errors.New("strftime_now: want one format string")
		}
		return jinja.NewString(strftime(now, args[0].AsString())), nil
	})
}

// strftime formats t as Python's time.strftime does in the C locale, for
// the directives chat templates use; others are kept as written.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
