package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// goldenDir locates ../shared/golden relative to this package.
func goldenDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Skip("cannot locate the test file")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden data not found at %s (bitnet.cpp outputs; see shared/golden/README.md)", dir)
	}
	return dir
}

// metaDiff lists how two files' metadata differ, one line per key.
func metaDiff(ours, theirs *gguf.File) []string {
	var diff []string
	tk := map[string]any{}
	for _, kv := range theirs.KV {
		tk[kv.Key] = kv.Value
	}
	seen := map[string]bool{}
	for _, kv := range ours.KV {
		seen[kv.Key] = true
		tv, ok := tk[kv.Key]
		switch {
		case !ok:
			diff = append(diff, "+"+kv.Key)
		case !reflect.DeepEqual(kv.Value, tv):
			diff = append(diff, "~"+kv.Key)
		}
	}
	for _, kv := range theirs.KV {
		if !seen[kv.Key] {
			diff = append(diff, "-"+kv.Key)
		}
	}
	sort.Strings(diff)
	return diff
}

// compareTensors checks names, order, types, shapes and bytes; for the
// ternary layouts the 28 padding bytes at the end are skipped.
func compareTensors(t *testing.T, ours, theirs *gguf.File) {
	t.Helper()
	if len(ours.Tensors) != len(theirs.Tensors) {
		t.Errorf("%d tensors, bitnet.cpp has %d", len(ours.Tensors), len(theirs.Tensors))
	}
	for i := range min(len(ours.Tensors), len(theirs.Tensors)) {
		a, b := &ours.Tensors[i], &theirs.Tensors[i]
		if a.Name != b.Name || a.Type != b.Type || !reflect.DeepEqual(a.Shape, b.Shape) {
			t.Errorf("tensor %d: ours %s %s %v, bitnet.cpp %s %s %v", i, a.Name, a.Type, a.Shape, b.Name, b.Type, b.Shape)
			continue
		}
		da, db := a.Data, b.Data
		if a.Type.IsTernary() {
			da, db = da[:len(da)-28], db[:len(db)-28]
		}
		if !bytes.Equal(da, db) {
			first := 0
			for first < len(da) && da[first] == db[first] {
				first++
			}
			t.Errorf("tensor %s (%s): bytes differ, first at %d of %d", a.Name, a.Type, first, len(da))
		}
	}
}

func TestGoldenConvert(t *testing.T) {
	gd := goldenDir(t)
	cases := []struct {
		model, typ string
	}{
		{"bitnet-b158-tiny", "f32"},
		{"bitnet-b158-tiny", "i2_s"},
		{"bitnet-silu-tiny", "f32"},
		{"bitnet-silu-tiny", "i2_s"},
		{"bitnet-silu-tiny", "tl2"},
		{"llama-ternary-tiny", "f32"},
		{"llama-ternary-tiny", "i2_s"},
		{"llama-ternary-tiny", "tl2"},
	}
	for _, c := range cases {
		t.Run(c.model+"/"+c.typ, func(t *testing.T) {
			ref := filepath.Join(gd, c.model, "bitnetcpp-"+c.typ+".gguf")
			typ, err := ParseType(c.typ)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.gguf")
			if err := Convert(context.Background(), filepath.Join(gd, c.model, "hf"), out, Options{Type: typ}); err != nil {
				t.Fatal(err)
			}
			ours, err := gguf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer ours.Close()
			theirs, err := gguf.Open(ref)
			if err != nil {
				t.Fatal(err)
			}
			defer theirs.Close()
			compareTensors(t, ours, theirs)
			fmt.Println(c.model, c.typ, metaDiff(ours, theirs))
		})
	}
}
