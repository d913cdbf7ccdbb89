package hub

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

// TestDownloadLayout checks the cache a snapshot download leaves, entry by
// entry, against the layout huggingface_hub writes for the same repository.
func TestDownloadLayout(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	commit := srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	c.Token = srv.Token // sent to the Hub, never to the CDN (the fake fails the test otherwise)

	dir, err := c.Download(context.Background(), "org/tiny", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, "models--org--tiny", "snapshots", commit); dir != want {
		t.Fatalf("snapshot dir = %s, want %s", dir, want)
	}
	oid := func(i int) string { return hubtest.GitOID(files[i].Data) }
	sha := hubtest.SHA256(files[3].Data)
	snap := "models--org--tiny/snapshots/" + commit + "/"
	diffLists(t, tree(t, c.CacheDir), []string{
		".locks/",
		".locks/models--org--tiny/",
		".locks/models--org--tiny/" + oid(0) + ".lock",
		".locks/models--org--tiny/" + oid(1) + ".lock",
		".locks/models--org--tiny/" + oid(2) + ".lock",
		".locks/models--org--tiny/" + sha + ".lock",
		"models--org--tiny/",
		"models--org--tiny/blobs/",
		"models--org--tiny/blobs/" + oid(0),
		"models--org--tiny/blobs/" + oid(1),
		"models--org--tiny/blobs/" + oid(2),
		"models--org--tiny/blobs/" + sha,
		"models--org--tiny/refs/",
		"models--org--tiny/refs/main",
		"models--org--tiny/snapshots/",
		snap,
		snap + "README.md -> ../../blobs/" + oid(1),
		snap + "config.json -> ../../blobs/" + oid(0),
		snap + "model.safetensors -> ../../blobs/" + sha,
		snap + "sub/",
		snap + "sub/tokenizer.json -> ../../../blobs/" + oid(2),
	})
	if got := string(mustRead(t, filepath.Join(c.CacheDir, "models--org--tiny", "refs", "main"))); got != commit {
		t.Errorf("refs/main = %q, want %q (no newline)", got, commit)
	}
	checkFiles(t, dir, files)

	reqs := srv.Requests()
	for _, r := range reqs {
		if r.Server == "hub" && !r.Auth {
			t.Errorf("hub request %s %s went without the token", r.Method, r.Path)
		}
	}
	if n := countReq(reqs, "cdn", "GET"); n != 1 {
		t.Errorf("CDN GETs = %d, want 1 (the LFS file)", n)
	}

	// A second run finds everything cached: API calls only, no HEAD or GET of files.
	srv.ResetRequests()
	if _, err := c.Download(context.Background(), "org/tiny", DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.Path, "/api/") {
			t.Errorf("second run fetched %s %s %s", r.Server, r.Method, r.Path)
		}
	}
}

func TestDownloadRevisions(t *testing.T) {
	srv := hubtest.New(t)
	v1 := srv.Commit("org/rev", "main", hubtest.File{Path: "a.txt", Data: []byte("one")})
	srv.Tag("org/rev", "v1.0", v1)
	pr := srv.Commit("org/rev", "refs/pr/1", hubtest.File{Path: "a.txt", Data: []byte("two")})
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	repoDir := filepath.Join(c.CacheDir, "models--org--rev")

	tests := []struct {
		rev, commit, content, ref string
	}{
		{"main", v1, "one", "refs/main"},
		{"v1.0", v1, "one", "refs/v1.0"},
		{"refs/pr/1", pr, "two", "refs/refs/pr/1"},
		{pr, pr, "two", ""},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			got, err := c.ResolveRevision(ctx, "org/rev", tt.rev)
			if err != nil || got != tt.commit {
				t.Fatalf("ResolveRevision = %q, %v; want %q", got, err, tt.commit)
			}
			dir, err := c.Download(ctx, "org/rev", DownloadOptions{Revision: tt.rev})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(dir) != tt.commit {
				t.Errorf("snapshot %s, want commit %s", dir, tt.commit)
			}
			if b := string(mustRead(t, filepath.Join(dir, "a.txt"))); b != tt.content {
				t.Errorf("a.txt = %q, want %q", b, tt.content)
			}
			if tt.ref != "" {
				if b := string(mustRead(t, filepath.Join(repoDir, filepath.FromSlash(tt.ref)))); b != tt.commit {
					t.Errorf("%s = %q, want %q", tt.ref, b, tt.commit)
				}
			}
		})
	}
	// A commit is never recorded as a ref.
	if _, err := os.Stat(filepath.Join(repoDir, "refs", pr)); err == nil {
		t.Error("a commit id was written under refs/")
	}
}

func TestDownloadIncludeExclude(t *testing.T) {
	srv := hubtest.New(t)
	srv.Commit("org/tiny", "main", tinyRepo()...)
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{"json anywhere", []string{"*.json"}, nil, []string{"config.json", "sub/tokenizer.json"}},
		{"directory", []string{"sub/"}, nil, []string{"sub/tokenizer.json"}},
		{"exclude", nil, []string{"*.safetensors", "README*"}, []string{"config.json", "sub/tokenizer.json"}},
		{"both", []string{"*.json", "*.md"}, []string{"sub/*"}, []string{"README.md", "config.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, srv)
			dir, err := c.Download(context.Background(), "org/tiny", DownloadOptions{Include: tt.include, Exclude: tt.exclude})
			if err != nil {
				t.Fatal(err)
			}
			files, err := c.cachedFiles("org/tiny", filepath.Base(dir))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, f.Path)
			}
			diffLists(t, got, tt.want)
		})
	}
}

func TestListFilesPaginated(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	commit := srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	got, err := c.ListFiles(context.Background(), "org/tiny", commit)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/tree/") {
			pages++
		}
	}
	if pages < 3 {
		t.Errorf("tree pages fetched = %d, want >= 3 (page size 2, 5 entries)", pages)
	}
	byPath := map[string]FileInfo{}
	for _, f := range got {
		byPath[f.Path] = f
	}
	if len(byPath) != len(files) {
		t.Fatalf("listed %d files, want %d: %+v", len(byPath), len(files), got)
	}
	for _, f := range files {
		fi := byPath[f.Path]
		if fi.Size != int64(len(f.Data)) {
			t.Errorf("%s: size %d, want %d", f.Path, fi.Size, len(f.Data))
		}
		if f.LFS != fi.LFS() || (f.LFS && fi.SHA256 != hubtest.SHA256(f.Data)) {
			t.Errorf("%s: sha256 %q, LFS %v", f.Path, fi.SHA256, fi.LFS())
		}
		if !f.LFS && fi.OID != hubtest.GitOID(f.Data) {
			t.Errorf("%s: oid %q", f.Path, fi.OID)
		}
	}
}

// TestRenamedRepo follows the relative redirect the Hub answers for a
// renamed repository, keeping the token (same host).
func TestRenamedRepo(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	srv.Commit("org/old", "main", files...)
	srv.SetPrivate("org/old")
	srv.Rename("org/old", "org/new")
	c, _ := newTestClient(t, srv)
	c.Token = srv.Token
	dir, err := c.Download(context.Background(), "org/old", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files)
	if !strings.Contains(dir, "models--org--old") {
		t.Errorf("cached under %s; huggingface_hub keeps the requested name", dir)
	}
}

func TestSymlinkFallback(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	c.symlink = func(string, string) error { return &os.LinkError{Op: "symlink", Err: syscall.EPERM} }
	dir, err := c.Download(context.Background(), "org/tiny", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files)
	for _, f := range files {
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want a regular file where symlinks are unavailable", f.Path, st.Mode())
		}
	}
}

func TestDownloadFile(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	commit := srv.Commit("org/tiny", "main", files...)
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	p, err := c.DownloadFile(ctx, "org/tiny", "main", "sub/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, "models--org--tiny", "snapshots", commit, "sub", "tokenizer.json"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if string(mustRead(t, p)) != string(files[2].Data) {
		t.Error("content differs")
	}
	if got := string(mustRead(t, filepath.Join(c.CacheDir, "models--org--tiny", "refs", "main"))); got != commit {
		t.Errorf("refs/main = %q", got)
	}
}
