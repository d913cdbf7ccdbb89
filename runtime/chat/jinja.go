package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// The engine is github.com/ardanlabs/jinja v1.8.0, the last release that
// builds with Go 1.26: it renders the corpus of test/jinja as
// @huggingface/jinja does, with trim_blocks and lstrip_blocks on as
// transformers sets them. This file adds what transformers provides around
// the engine and the one shim the corpus needs (tojson with an indent).

// tojsonIndent is the global that "x | tojson(indent=N)" is rewritten to
// call: the engine's own indented tojson goes through Go maps, which sorts
// the keys, while Python's json.dumps (and @huggingface/jinja) keeps their
// order, and Llama 3.1's tool prompt prints tools that way.
const tojsonIndent = "__bitnet_tojson_indent"

// indentedTojson matches "operand | tojson(indent=N)" where the operand is
// a name with attribute and subscript accesses, the only operands a filter
// binds to without parentheses.
var indentedTojson = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\[\]{}]*\])*)\s*\|\s*tojson\(\s*indent\s*=\s*([0-9]+)\s*\)`)

// compile parses source, naming the template in errors.
func compile(name, source string) (tmpl *jinja.Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chat template %s: the Jinja parser failed: %v", name, r)
		}
	}()
	src := indentedTojson.ReplaceAllString(source, tojsonIndent+"($1, $2)")
	tmpl, err = jinja.Compile(src)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jinja parse: "), "jinja scan: ")
		return nil, fmt.Errorf("chat template %s: %s", name, msg)
	}
	return tmpl, nil
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

// tojsonIndentFunc is tojson(indent=N) as Python's json.dumps writes it
// with transformers' ensure_ascii=False: items separated by ",", keys by
// ": ", one level of N spaces per depth, empty containers as [] and {}.
func tojsonIndentFunc(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) != 2 || !args[1].IsInt() {
		return jinja.Undefined(), errors.New("tojson: want a value and an integer indent")
	}
	var b strings.Builder
	writeJSON(&b, args[0], strings.Repeat(" ", int(args[1].AsInt())), 0)
	return jinja.NewString(b.String()), nil
}

func writeJSON(b *strings.Builder, v jinja.Value, indent string, depth int) {
	nl := func(d int) {
		b.WriteByte('\n')
		for range d {
			b.WriteString(indent)
		}
	}
	switch {
	case v.IsNone(), v.IsUndefined(), v.IsCallable():
		b.WriteString("null")
	case v.IsBool():
		b.WriteString(strconv.FormatBool(v.AsBool()))
	case v.IsInt():
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		b.WriteString(strconv.FormatFloat(v.AsFloat(), 'g', -1, 64))
	case v.IsString():
		writeJSONString(b, v.AsString())
	case v.IsList():
		items := v.AsList().Items
		if len(items) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSON(b, it, indent, depth+1)
		}
		nl(depth)
		b.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		if len(d.Keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, k := range d.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			nl(depth + 1)
			writeJSONString(b, k)
			b.WriteString(": ")
			val, _ := d.Get(k)
			writeJSON(b, val, indent, depth+1)
		}
		nl(depth)
		b.WriteByte('}')
	}
}

// writeJSONString quotes s as json.dumps(ensure_ascii=False) and
// JSON.stringify do: only quotes, backslashes and control characters are
// escaped (no HTML escaping, unlike encoding/json).
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
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
