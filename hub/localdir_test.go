package hub

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func TestLocalDir(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	commit := srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	local := filepath.Join(t.TempDir(), "tiny")

	got, err := c.Download(ctx, "org/tiny", DownloadOptions{LocalDir: local})
	if err != nil {
		t.Fatal(err)
	}
	if got != local {
		t.Errorf("returned %s, want %s", got, local)
	}
	checkFiles(t, local, files)
	md := ".cache/huggingface/download/"
	diffLists(t, tree(t, local), []string{
		".cache/", ".cache/huggingface/", ".cache/huggingface/.gitignore", ".cache/huggingface/download/",
		md + "README.md.lock", md + "README.md.metadata",
		md + "config.json.lock", md + "config.json.metadata",
		md + "model.safetensors.lock", md + "model.safetensors.metadata",
		md + "sub/", md + "sub/tokenizer.json.lock", md + "sub/tokenizer.json.metadata",
		"README.md", "config.json", "model.safetensors", "sub/", "sub/tokenizer.json",
	})
	if b := string(mustRead(t, filepath.Join(local, ".cache/huggingface/.gitignore"))); b != "*" {
		t.Errorf(".gitignore = %q", b)
	}
	lines := strings.Split(string(mustRead(t, filepath.Join(local, md+"model.safetensors.metadata"))), "\n")
	if len(lines) != 4 || lines[0] != commit || lines[1] != hubtest.SHA256(files[3].Data) || lines[3] != "" {
		t.Errorf("metadata = %q, want commit, etag, timestamp", lines)
	}
	if ts, err := strconv.ParseFloat(lines[2], 64); err != nil || time.Since(time.Unix(int64(ts), 0)) > time.Hour {
		t.Errorf("timestamp %q: %v", lines[2], err)
	}
	if _, err := os.Stat(filepath.Join(c.CacheDir, "models--org--tiny")); !os.IsNotExist(err) {
		t.Errorf("local-dir mode wrote to the cache: %v", err)
	}

	// Second run: up to date, no file is fetched.
	srv.ResetRequests()
	if _, err := c.Download(ctx, "org/tiny", DownloadOptions{LocalDir: local}); err != nil {
		t.Fatal(err)
	}
	if n := countReq(srv.Requests(), "cdn", "GET") + countReq(srv.Requests(), "hub", "HEAD"); n != 0 {
		t.Errorf("second run made %d file requests", n)
	}

	// A file edited by the user (newer than its metadata, different
	// content) is replaced; the LFS file is checked by its sha256.
	p := filepath.Join(local, "model.safetensors")
	if err := os.WriteFile(p, []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(p, future, future)
	srv.ResetRequests()
	if _, err := c.Download(ctx, "org/tiny", DownloadOptions{LocalDir: local}); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, local, files)
	if n := countReq(srv.Requests(), "cdn", "GET"); n != 1 {
		t.Errorf("edited LFS file: %d CDN GETs, want 1", n)
	}
}

// TestLocalDirFromCache copies a file the cache already holds instead of
// downloading it again.
func TestLocalDirFromCache(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	if _, err := c.Download(ctx, "org/tiny", DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	local := t.TempDir()
	if _, err := c.Download(ctx, "org/tiny", DownloadOptions{LocalDir: local}); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, local, files)
	if n := fileGETs(srv.Requests()); n != 0 {
		t.Errorf("%d file GETs; the cache should have served", n)
	}
	st, _ := os.Lstat(filepath.Join(local, "model.safetensors"))
	if st == nil || !st.Mode().IsRegular() {
		t.Errorf("local-dir file is not a plain file: %v", st)
	}
}

// TestLocalDirResume: the partial file of local-dir mode lives under
// .cache/huggingface/download/{path}.{etag}.incomplete and is resumed.
func TestLocalDirResume(t *testing.T) {
	srv := hubtest.New(t)
	f := hubtest.File{Path: "w/model.safetensors", Data: blob(500_000, 9), LFS: true}
	srv.Commit("org/big", "main", f)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", DropAfter: 123_456})
	c, _ := newTestClient(t, srv)
	c.MaxRetries = -1
	local := t.TempDir()
	if _, err := c.Download(context.Background(), "org/big", DownloadOptions{LocalDir: local}); err == nil {
		t.Fatal("first run should fail")
	}
	partial := filepath.Join(local, ".cache/huggingface/download/w/model.safetensors."+hubtest.SHA256(f.Data)+".incomplete")
	if st, err := os.Stat(partial); err != nil || st.Size() != 123_456 {
		t.Fatalf("partial: %v, %v", st, err)
	}
	srv.ResetRequests()
	if _, err := c.Download(context.Background(), "org/big", DownloadOptions{LocalDir: local}); err != nil {
		t.Fatal(err)
	}
	if got := cdnRanges(srv.Requests()); len(got) != 1 || got[0] != "bytes=123456-" {
		t.Errorf("ranges %q", got)
	}
	checkFiles(t, local, []hubtest.File{f})
}
