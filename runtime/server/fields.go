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
// tags, plus the top-level ones in pendingFields.

// pendingFields are accepted though this server does not act on them yet:
// structured output and tools, which are being built. They behave as
// before the fields were checked, until that work replaces this list.
var pendingFields = []string{"response_format", "tools", "tool_choice", "parallel_tool_calls"}

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
// to: top-level fields, and those of objects held in pointer-to-struct
// fields (stream_options). Messages are left to their own parsing.
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
		if !known[k] && !(prefix == "" && slices.Contains(pendingFields, k)) {
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

// checkNested checks the objects of fields held in t's pointer-to-struct
// fields, embedded structs' included.
func checkNested(fields map[string]json.RawMessage, t reflect.Type, prefix string) *apiError {
	for f := range t.Fields() {
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if e := checkNested(fields, f.Type, prefix); e != nil {
				return e
			}
			continue
		}
		if f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if raw, ok := fields[name]; ok {
			if e := checkObject(raw, f.Type.Elem(), prefix+name+"."); e != nil {
				return e
			}
		}
	}
	return nil
}
