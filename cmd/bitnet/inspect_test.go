package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// runCLI runs the root command with args and returns stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func goldenDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden files not available (%v); they live in ../shared/golden beside the checkout", err)
	}
	return dir
}

func TestInspectGenerated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	kv := []gguf.KV{{Key: "general.architecture", Value: "bitnet-b1.58"},
		{Key: "tokenizer.ggml.tokens", Value: gguf.Array{Elem: gguf.String, Values: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}}}
	tensors := []gguf.TensorSpec{{Name: "blk.0.attn_q.weight", Type: gguf.I2_S, Shape: []uint64{128, 4},
		Write: func(w io.Writer) error { _, err := w.Write(make([]byte, 128*4/4+32)); return err }}}
	if err := gguf.WriteFile(path, kv, tensors); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "inspect", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`architecture "bitnet-b1.58"`, "[string×10]", "… 2 more", "blk.0.attn_q.weight", "I2_S", "[128, 4]", "160"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "inspect", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var doc inspectJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Architecture != "bitnet-b1.58" || len(doc.Tensors) != 1 || doc.Tensors[0].Bytes != 160 || doc.Tensors[0].TypeID != 36 {
		t.Fatalf("json: %+v", doc)
	}
	if _, err := runCLI(t, "inspect", filepath.Join(t.TempDir(), "missing.gguf")); err == nil {
		t.Fatal("missing file accepted")
	}
}

// TestInspectGolden reads every GGUF written by bitnet.cpp's tools and
// checks the types and byte sizes the inspector reports.
func TestInspectGolden(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(goldenDir(t), "*", "*.gguf"))
	for _, p := range paths {
		out, err := runCLI(t, "inspect", "--json", "--tensors", p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var doc inspectJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"-f32": "F32", "-i2_s": "I2_S", "-tl2": "TL2"}
		for suffix, typ := range want {
			if !strings.HasSuffix(p, suffix+".gguf") {
				continue
			}
			for _, tj := range doc.Tensors {
				if strings.Contains(tj.Name, "attn_q") && tj.Type != typ {
					t.Errorf("%s: %s is %s, want %s", p, tj.Name, tj.Type, typ)
				}
				if tj.Name == "blk.0.attn_q.weight" && typ != "F32" && tj.Bytes != 256*256/4+32 {
					t.Errorf("%s: %s has %d bytes", p, tj.Name, tj.Bytes)
				}
			}
		}
	}
}
