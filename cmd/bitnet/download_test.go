package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
	"github.com/spf13/cobra"
)

// hubEnv points the environment at a fresh fake Hub and cache.
func hubEnv(t *testing.T) (*hubtest.Server, string) {
	t.Helper()
	srv := hubtest.New(t)
	home := t.TempDir()
	for k, v := range map[string]string{
		"HF_ENDPOINT": srv.URL(), "HF_HOME": home, "HF_HUB_CACHE": filepath.Join(home, "hub"),
		"HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "", "HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "",
	} {
		t.Setenv(k, v)
	}
	return srv, filepath.Join(home, "hub")
}

func runDownload(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"download"}, args...))
	err := root.Execute()
	return strings.TrimSpace(out.String()), err
}

func TestDownloadCommand(t *testing.T) {
	srv, cache := hubEnv(t)
	files := []hubtest.File{
		{Path: "config.json", Data: []byte(`{}`)},
		{Path: "model.safetensors", Data: bytes.Repeat([]byte{1, 2, 3}, 10000), LFS: true},
		{Path: "sub/tokenizer.json", Data: []byte(`{"v":1}`)},
	}
	commit := srv.Commit("org/tiny", "main", files...)
	srv.Tag("org/tiny", "v1", commit)
	snapshot := filepath.Join(cache, "models--org--tiny", "snapshots", commit)

	out, err := runDownload(t, "org/tiny", "--include", "*.json", "--revision", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if out != snapshot {
		t.Errorf("printed %q, want %q", out, snapshot)
	}
	for _, f := range []string{"config.json", "sub/tokenizer.json"} {
		if _, err := os.Stat(filepath.Join(snapshot, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(snapshot, "model.safetensors")); err == nil {
		t.Error("--include did not filter")
	}

	local := filepath.Join(t.TempDir(), "tiny")
	out, err = runDownload(t, "org/tiny", "--local-dir", local, "--exclude", "sub/")
	if err != nil {
		t.Fatal(err)
	}
	if out != local {
		t.Errorf("printed %q, want %q", out, local)
	}
	if b, err := os.ReadFile(filepath.Join(local, "model.safetensors")); err != nil || !bytes.Equal(b, files[1].Data) {
		t.Errorf("local-dir file: %v", err)
	}

	// Offline: the warm cache answers, a missing repository explains itself.
	t.Setenv("HF_HUB_OFFLINE", "1")
	srv.ResetRequests()
	if out, err := runDownload(t, "org/tiny", "--revision", "v1"); err != nil || out != snapshot {
		t.Errorf("offline warm: %q, %v", out, err)
	}
	_, err = runDownload(t, "org/other")
	if err == nil || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("offline cold: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("offline sent %d requests", n)
	}
}

func TestDownloadCommandErrors(t *testing.T) {
	srv, _ := hubEnv(t)
	srv.Commit("org/gated", "main", hubtest.File{Path: "config.json", Data: []byte(`{}`)})
	srv.SetGated("org/gated", false)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"org/missing"}, `repository "org/missing" not found`},
		{[]string{"org/gated"}, `"org/gated" is gated`},
		{[]string{"../../etc"}, "invalid repository id"},
		{[]string{"org/gated", "--revision", "../x"}, "invalid revision"},
		{[]string{}, "accepts 1 arg"},
	}
	for _, tt := range tests {
		_, err := runDownload(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("download %v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestResolveHFModel(t *testing.T) {
	srv, cache := hubEnv(t)
	gguf := func(name string) hubtest.File {
		return hubtest.File{Path: name, Data: []byte("GGUF" + name), LFS: true}
	}
	commit := srv.Commit("microsoft/BitNet-b1.58-2B-4T-gguf", "main",
		gguf("ggml-model-i2_s.gguf"), gguf("ggml-model-tl2.gguf"), hubtest.File{Path: "README.md", Data: []byte("#")})
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	cmd.SetErr(io.Discard)
	p, err := resolveHFModel(cmd, "microsoft/BitNet-b1.58-2B-4T-gguf", "", "", "i2_s")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(cache, "models--microsoft--BitNet-b1.58-2B-4T-gguf", "snapshots", commit, "ggml-model-i2_s.gguf")
	if p != want {
		t.Errorf("path %s, want %s", p, want)
	}

	// A checkpoint goes through the converter; a broken one fails without
	// leaving a conversion behind.
	srv.Commit("org/ckpt", "main",
		hubtest.File{Path: "config.json", Data: []byte(`{"architectures":["Nope"]}`)},
		hubtest.File{Path: "model.safetensors", Data: []byte("not safetensors"), LFS: true})
	if _, err := resolveHFModel(cmd, "org/ckpt", "", "", "i2_s"); err == nil {
		t.Error("converting a broken checkpoint succeeded")
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "models--org--ckpt", "converted", "*", "*"))
	if len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
}
