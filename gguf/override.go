package gguf

import (
	"fmt"
	"strconv"
	"strings"
)

// Set replaces the value of kv.Key, or appends the key when the file has
// none: how a loader applies metadata overrides (ParseOverride) to a file
// that is wrong in some key. Only the parsed metadata change, not the
// bytes of the file.
func (f *File) Set(kv KV) {
	if i, ok := f.kvIndex[kv.Key]; ok {
		f.KV[i].Value = kv.Value
		return
	}
	if f.kvIndex == nil {
		f.kvIndex = map[string]int{}
	}
	f.kvIndex[kv.Key] = len(f.KV)
	f.KV = append(f.KV, kv)
}

// ParseOverride parses llama.cpp's --override-kv argument KEY=TYPE:VALUE,
// TYPE being int (an int64), float (a float64), bool (true or false) or str.
func ParseOverride(s string) (KV, error) {
	key, rest, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return KV{}, fmt.Errorf("override %q: want KEY=TYPE:VALUE", s)
	}
	typ, val, ok := strings.Cut(rest, ":")
	if !ok {
		return KV{}, fmt.Errorf("override %q: want KEY=TYPE:VALUE (TYPE int, float, bool or str)", s)
	}
	var (
		v   any
		err error
	)
	switch typ {
	case "int":
		v, err = strconv.ParseInt(val, 10, 64)
	case "float":
		v, err = strconv.ParseFloat(val, 64)
	case "bool":
		switch val {
		case "true":
			v = true
		case "false":
			v = false
		default:
			err = fmt.Errorf("%q is not true or false", val)
		}
	case "str":
		v = val
	default:
		return KV{}, fmt.Errorf("override %q: unknown type %q (int, float, bool or str)", s, typ)
	}
	if err != nil {
		return KV{}, fmt.Errorf("override %q: %v", s, err)
	}
	return KV{Key: key, Value: v}, nil
}
