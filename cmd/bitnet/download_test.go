package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestDownloadCommandResume interrupts a download (as Ctrl-C would) while
// the connection is stalled mid-file, then runs the command again: it
// resumes from the partial file with a Range request.
func TestDownloadCommandResume(t *testing.T) {
	srv, cache := hubEnv(t)
	f := hubtest.File{Path: "model.safetensors", Data: bytes.Repeat([]byte("0123456789abcdef"), 50_000), LFS: true}
	commit := srv.Commit("org/big", "main", f)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", DropAfter: 250_000, Hang: true})
	partial := filepath.Join(cache, "models--org--big", "blobs", hubtest.SHA256(f.Data)+".incomplete")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		root := newRootCmd()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs([]string{"download", "org/big"})
		done <- root.ExecuteContext(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, err := os.Stat(partial); err == nil && st.Size() == 250_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the partial file never reached 250000 bytes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the interrupted run succeeded")
	}

	srv.ResetRequests()
	out, err := runDownload(t, "org/big")
	if err != nil {
		t.Fatal(err)
	}
	var ranges []string
	for _, r := range srv.Requests() {
		if r.Server == "cdn" {
			ranges = append(ranges, r.Range)
		}
	}
	if len(ranges) != 1 || ranges[0] != "bytes=250000-" {
		t.Errorf("second run CDN ranges %q, want one from byte 250000", ranges)
	}
	b, err := os.ReadFile(filepath.Join(cache, "models--org--big", "snapshots", commit, f.Path))
	if err != nil || hubtest.SHA256(b) != hubtest.SHA256(f.Data) || out == "" {
		t.Errorf("resumed file: sha256 mismatch or missing (%v)", err)
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
