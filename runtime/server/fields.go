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
// tags, plus the ones in pendingFields.

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
	for _, f := range pendingFields {
		known[f] = true
	}
	knownFieldsCache.Store(t, known)
	return known
}

// checkFields refuses the first unknown top-level field of body (in sorted
// order, so the answer does not depend on map order) for the request
// struct v points to.
func checkFields(body []byte, v any) *apiError {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil // not an object: the typed decode has said so already
	}
	known := knownFields(reflect.TypeOf(v).Elem())
	var unknown []string
	for k := range fields {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return badRequest(unknown[0], fmt.Sprintf("Unrecognized request argument supplied: %s (this server does not support it)", unknown[0]))
}
