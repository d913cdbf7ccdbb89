package gguf

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseOverride(t *testing.T) {
	for _, c := range []struct {
		in   string
		want any
		err  string
	}{
		{"tokenizer.ggml.eot_token_id=int:128009", int64(128009), ""},
		{"llama.rope.freq_base=float:1000042", float64(1000042), ""},
		{"tokenizer.ggml.add_bos_token=bool:false", false, ""},
		{"tokenizer.ggml.pre=str:llama-bpe", "llama-bpe", ""},
		{"general.name=str:a=b:c", "a=b:c", ""},
		{"k=int:x", nil, "invalid syntax"},
		{"k=bool:yes", nil, "not true or false"},
		{"k=u32:1", nil, `unknown type "u32"`},
		{"k:int=1", nil, "want KEY=TYPE:VALUE"},
		{"=int:1", nil, "want KEY=TYPE:VALUE"},
	} {
		kv, err := ParseOverride(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || kv.Value != c.want {
			t.Errorf("%s: %v (%T), %v; want %v", c.in, kv.Value, kv.Value, err, c.want)
		}
	}
}

// TestSet: an override replaces a key in place or adds it; the typed
// getters read the override's int64 and float64 like the file's types.
func TestSet(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, []KV{{Key: "a", Value: uint32(1)}, {Key: "b", Value: float32(2)}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a=int:7", "b=float:2.5", "c=str:new"} {
		kv, err := ParseOverride(s)
		if err != nil {
			t.Fatal(err)
		}
		f.Set(kv)
	}
	a, _ := f.Uint("a")
	b, _ := f.Float("b")
	c, _ := f.String("c")
	if a != 7 || b != 2.5 || c != "new" || len(f.KV) != 3 || f.KV[2].Key != "c" {
		t.Errorf("a=%d b=%g c=%q, %d keys", a, b, c, len(f.KV))
	}
}
