package server

import (
	"fmt"
	"testing"
)

// TestSchemaCache: a schema compiled once is served from the cache, and
// the cache stays within its bound.
func TestSchemaCache(t *testing.T) {
	raw := []byte(`{"type":"object","properties":{"cachetest":{"type":"integer"}}}`)
	a, e := compileSchema(raw, true, "p")
	if e != nil {
		t.Fatal(e)
	}
	b, _ := compileSchema(raw, true, "p")
	c, _ := compileSchema(raw, false, "p")
	if a != b || a == c {
		t.Errorf("cache: same text %v, other strictness %v", a == b, a == c)
	}
	for i := range 2 * schemaCacheSize {
		if _, e := compileSchema([]byte(fmt.Sprintf(`{"const":%d}`, i)), true, "p"); e != nil {
			t.Fatal(e)
		}
	}
	schemas.mu.Lock()
	n, order := len(schemas.m), len(schemas.order)
	schemas.mu.Unlock()
	if n != order || n > schemaCacheSize {
		t.Errorf("cache holds %d schemas (%d in order), bound %d", n, order, schemaCacheSize)
	}
}
