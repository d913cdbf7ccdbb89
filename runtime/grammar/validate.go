package grammar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"
)

// Validate reports whether the JSON document doc satisfies s, with an
// error saying where it does not. The matcher only ever produces documents
// that pass; tests and callers use Validate to check that claim.
func (s *Schema) Validate(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("not JSON: text after the value")
	}
	return s.root.validate(v)
}

func (n *node) validate(v any) error {
	if n.lits != nil {
		b, err := canonical(v)
		if err != nil {
			return err
		}
		for _, l := range n.lits {
			if bytes.Equal(l, b) || jsonEqualBytes(l, b) {
				return nil
			}
		}
		return fmt.Errorf("%s is not one of the allowed values", b)
	}
	if n.alts != nil {
		var first error
		for _, a := range n.alts {
			err := a.validate(v)
			if err == nil {
				return nil
			}
			if first == nil {
				first = err
			}
		}
		return fmt.Errorf("no alternative of anyOf matches: %w", first)
	}
	switch v := v.(type) {
	case nil:
		return n.want(tNull, "null")
	case bool:
		return n.want(tBool, "a boolean")
	case string:
		if err := n.want(tString, "a string"); err != nil {
			return err
		}
		l := utf8.RuneCountInString(v)
		if l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
			return fmt.Errorf("string of %d characters is outside [%d, %d]", l, n.minLen, n.maxLen)
		}
	case json.Number, float64:
		f, isInt := numberValue(v)
		if n.types&tNumber == 0 {
			if n.types&tInteger == 0 || !isInt {
				return fmt.Errorf("%v is not allowed here", v)
			}
		}
		if !n.inRange(f) {
			return fmt.Errorf("%v is out of bounds", v)
		}
	case []any:
		if err := n.want(tArray, "an array"); err != nil {
			return err
		}
		if len(v) < n.minItems || n.maxItems >= 0 && len(v) > n.maxItems {
			return fmt.Errorf("array of %d items is outside [%d, %d]", len(v), n.minItems, n.maxItems)
		}
		for i, it := range v {
			if err := n.items.validate(it); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case map[string]any:
		if err := n.want(tObject, "an object"); err != nil {
			return err
		}
		for i, p := range n.props {
			pv, ok := v[p.name]
			if !ok {
				if n.required&(1<<i) != 0 {
					return fmt.Errorf("required property %q is missing", p.name)
				}
				continue
			}
			if err := p.n.validate(pv); err != nil {
				return fmt.Errorf(".%s: %w", p.name, err)
			}
		}
		for k, pv := range v {
			if n.propIndex(k) >= 0 {
				continue
			}
			if n.addl == nil {
				return fmt.Errorf("property %q is not allowed", k)
			}
			if err := n.addl.validate(pv); err != nil {
				return fmt.Errorf(".%s: %w", k, err)
			}
		}
	default:
		return fmt.Errorf("unexpected value %T", v)
	}
	return nil
}

func (n *node) want(t uint8, what string) error {
	if n.types&t == 0 {
		return fmt.Errorf("%s is not allowed here", what)
	}
	return nil
}

func (n *node) propIndex(name string) int {
	for i, p := range n.props {
		if p.name == name {
			return i
		}
	}
	return -1
}

// numberValue returns a decoded number's value and whether it is an
// integer (JSON Schema counts 1.0 as one).
func numberValue(v any) (float64, bool) {
	var f float64
	switch v := v.(type) {
	case json.Number:
		f, _ = v.Float64()
	case float64:
		f = v
	}
	return f, f == math.Trunc(f) && !math.IsInf(f, 0)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	ab, err1 := canonical(a)
	bb, err2 := canonical(b)
	return err1 == nil && err2 == nil && jsonEqualBytes(ab, bb)
}

func jsonEqualBytes(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
