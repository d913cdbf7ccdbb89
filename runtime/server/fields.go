package server

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Unknown request fields are refused with a 400 naming them rather than
// ignored: a client that sends a field expects it to have an effect, and a
// silent 200 would hide that it had none (OpenAI answers the same way).
// The known fields are those of the request structs, read from their json
// tags.

var knownFieldsCache sync.Map // reflect.Type → map[string]bool

// knownFields lists the JSON fields of struct type t, embedded structs
// included.
func knownFields(t reflect.Type) map[string]bool {
	if v, ok := knownFieldsCache.Load(t); ok {
		return v.(map[string]bool)
	}
	known := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				known[name] = true
			}
		}
	}
	walk(t)
	knownFieldsCache.Store(t, known)
	return known
}

// checkFields refuses the first unknown field of body (in sorted order, so
// the answer does not depend on map order) for the request struct v points
// to: top-level fields, and those of objects held in struct, pointer-to-
// struct and slice-of-struct fields (stream_options, each message and its
// tool_calls, named messages[i].tool_calls[j].function.x). Fields held as
// raw JSON (content, tools, response_format, …) are left to their own
// parsing.
func checkFields(body []byte, v any) *apiError {
	return checkObject(body, reflect.TypeOf(v).Elem(), "")
}

func checkObject(body []byte, t reflect.Type, prefix string) *apiError {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil // not an object: the typed decode has said so already
	}
	known := knownFields(t)
	var unknown []string
	for k := range fields {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		name := prefix + unknown[0]
		return badRequest(name, fmt.Sprintf("Unrecognized request argument supplied: %s (this server does not support it)", name))
	}
	return checkNested(fields, t, prefix)
}

// checkNested checks the objects of fields held in t's struct,
// pointer-to-struct and slice-of-struct fields, embedded structs'
// included.
func checkNested(fields map[string]json.RawMessage, t reflect.Type, prefix string) *apiError {
	for f := range t.Fields() {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if e := checkNested(fields, f.Type, prefix); e != nil {
				return e
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		raw, ok := fields[name]
		if !ok || name == "" || name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			if e := checkObject(raw, ft, prefix+name+"."); e != nil {
				return e
			}
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			var elems []json.RawMessage
			if json.Unmarshal(raw, &elems) != nil {
				continue // not an array: the typed decode has said so already
			}
			for i, el := range elems {
				if e := checkObject(el, ft.Elem(), fmt.Sprintf("%s%s[%d].", prefix, name, i)); e != nil {
					return e
				}
			}
		}
	}
	return nil
}
