package chat

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// transformers replaces Jinja's tojson with json.dumps(x,
// ensure_ascii=False, indent=None, separators=None, sort_keys=False). The
// engine's tojson without arguments writes the same; with arguments it
// goes through Go maps (sorted keys, HTML escapes) and ignores sort_keys
// and separators. So "operand | tojson(ARGS)" is rewritten to call
// tojsonFunc, json.dumps written out below; Llama 3.1's tool prompt uses
// tojson(indent=4).
const tojsonFunc = "__bitnet_tojson"

// tojsonWithArgs finds "operand | tojson(": the operand is a name with
// attribute and subscript accesses, the only operands a filter binds to
// without parentheses (others keep the engine's tojson).
var tojsonWithArgs = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\[\]{}]*\])*)\s*\|\s*tojson\s*\(`)

// rewriteTojson turns "x | tojson(ARGS)" into "__bitnet_tojson(x, ARGS)".
func rewriteTojson(src string) string {
	var b strings.Builder
	last := 0
	for _, m := range tojsonWithArgs.FindAllStringSubmatchIndex(src, -1) {
		if m[0] < last {
			continue
		}
		end := closingParen(src, m[1])
		if end < 0 {
			continue
		}
		args := strings.TrimSpace(src[m[1]:end])
		b.WriteString(src[last:m[0]])
		b.WriteString(tojsonFunc + "(" + src[m[2]:m[3]])
		if args != "" {
			b.WriteString(", " + args)
		}
		b.WriteString(")")
		last = end + 1
	}
	b.WriteString(src[last:])
	return b.String()
}

// jsonStyle is json.dumps's formatting arguments.
type jsonStyle struct {
	indent          *string // nil: one line
	itemSep, keySep string
	sortKeys, ascii bool
}

// tojsonCall is json.dumps(value, ensure_ascii, indent, separators,
// sort_keys) with transformers' defaults; the arguments may be given by
// position or by name.
func tojsonCall(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), errors.New("tojson: no value")
	}
	names := []string{"ensure_ascii", "indent", "separators", "sort_keys"}
	opts := map[string]jinja.Value{}
	for i, a := range args[1:] {
		if i >= len(names) {
			return jinja.Undefined(), errors.New("tojson: too many arguments")
		}
		opts[names[i]] = a
	}
	for k, v := range kwargs {
		if !slices.Contains(names, k) {
			return jinja.Undefined(), fmt.Errorf("tojson: unexpected argument %q", k)
		}
		opts[k] = v
	}
	st := jsonStyle{itemSep: ", ", keySep: ": "}
	if v, ok := opts["indent"]; ok && !v.IsNone() && !v.IsUndefined() {
		var ind string
		switch {
		case v.IsInt():
			ind = strings.Repeat(" ", int(max(v.AsInt(), 0)))
		case v.IsString():
			ind = v.AsString()
		default:
			return jinja.Undefined(), errors.New("tojson: indent must be an integer or a string")
		}
		st.indent, st.itemSep = &ind, ","
	}
	if v, ok := opts["separators"]; ok && !v.IsNone() && !v.IsUndefined() {
		if !v.IsList() || v.AsList().Len() != 2 || !v.AsList().Get(0).IsString() || !v.AsList().Get(1).IsString() {
			return jinja.Undefined(), errors.New("tojson: separators must be two strings")
		}
		st.itemSep, st.keySep = v.AsList().Get(0).AsString(), v.AsList().Get(1).AsString()
	}
	st.sortKeys = opts["sort_keys"].IsTruthy()
	st.ascii = opts["ensure_ascii"].IsTruthy()
	var b strings.Builder
	if err := st.write(&b, args[0], 0); err != nil {
		return jinja.Undefined(), err
	}
	return jinja.NewString(b.String()), nil
}

func (st *jsonStyle) newline(b *strings.Builder, depth int) {
	if st.indent == nil {
		return
	}
	b.WriteByte('\n')
	for range depth {
		b.WriteString(*st.indent)
	}
}

func (st *jsonStyle) write(b *strings.Builder, v jinja.Value, depth int) error {
	switch {
	case v.IsNone(), v.IsUndefined():
		b.WriteString("null")
	case v.IsBool():
		b.WriteString(strconv.FormatBool(v.AsBool()))
	case v.IsInt():
		b.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		b.WriteString(pythonFloat(v.AsFloat()))
	case v.IsString():
		st.writeString(b, v.AsString())
	case v.IsList():
		items := v.AsList().Items
		if len(items) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteString(st.itemSep)
			}
			st.newline(b, depth+1)
			if err := st.write(b, it, depth+1); err != nil {
				return err
			}
		}
		st.newline(b, depth)
		b.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		keys := slices.Clone(d.Keys)
		if st.sortKeys {
			slices.SortFunc(keys, cmp.Compare)
		}
		if len(keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(st.itemSep)
			}
			st.newline(b, depth+1)
			st.writeString(b, k)
			b.WriteString(st.keySep)
			val, _ := d.Get(k)
			if err := st.write(b, val, depth+1); err != nil {
				return err
			}
		}
		st.newline(b, depth)
		b.WriteByte('}')
	default:
		return errors.New("tojson: a callable is not JSON serializable")
	}
	return nil
}

// pythonFloat writes f as Python's float repr does (json.dumps uses it):
// the shortest digits that read back the same, positional with a ".0"
// from 1e-4 up to 1e16, else with a two-digit exponent ("1e+16", "1e-05").
func pythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x >= -4 && x < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, x)
}

// writeString quotes s as json.dumps does: quotes, backslashes and control
// characters escaped, nothing HTML-escaped (unlike encoding/json), and with
// ensure_ascii every non-ASCII character as \uXXXX (UTF-16).
func (st *jsonStyle) writeString(b *strings.Builder, s string) {
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
			switch {
			case r < 0x20 || (st.ascii && r > 0x7e):
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(b, `\u%04x`, r)
				}
			case r == utf8.RuneError:
				b.WriteString("\ufffd")
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
