package hub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func TestValidateRepoID(t *testing.T) {
	tests := []struct {
		repo string
		ok   bool
	}{
		{"microsoft/BitNet-b1.58-2B-4T", true},
		{"microsoft/BitNet-b1.58-2B-4T-gguf", true},
		{"gpt2", true},
		{"org_1/model.v2", true},
		{"", false},
		{"../evil", false},
		{"org/../x", false},
		{"org/..", false},
		{"/etc/passwd", false},
		{"org/name/extra", false},
		{`org\name`, false},
		{`..\..\x`, false},
		{"org--x/y", false},
		{"org/name.git", false},
		{"org/-name", false},
		{"org/name ", false},
		{"C:/x", false},
	}
	for _, tt := range tests {
		err := ValidateRepoID(tt.repo)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateRepoID(%q) = %v, want ok=%v", tt.repo, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("ValidateRepoID(%q): %v is not ErrUnsafePath", tt.repo, err)
		}
	}
}

func TestValidatePaths(t *testing.T) {
	tests := []struct {
		p  string
		ok bool
	}{
		{"config.json", true},
		{"sub/dir/model.safetensors", true},
		{".gitattributes", true},
		{"refs/pr/1", true},
		{"../escape", false},
		{"a/../../b", false},
		{"a/./b", false},
		{"/abs", false},
		{`dir\evil`, false},
		{"a//b", false},
		{"trailing/", false},
		{"C:evil", false},
		{"nul\x00byte", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := validateRepoPath(tt.p); (err == nil) != tt.ok {
			t.Errorf("validateRepoPath(%q) = %v, want ok=%v", tt.p, err, tt.ok)
		}
		if err := validateRevision(tt.p); (err == nil) != tt.ok {
			t.Errorf("validateRevision(%q) = %v, want ok=%v", tt.p, err, tt.ok)
		}
	}
}

// TestRefuseEscapes feeds the client names that would write outside the
// cache, from the user and from the server, and checks each is refused
// before anything is written.
func TestRefuseEscapes(t *testing.T) {
	srv := hubtest.New(t)
	for i, p := range []string{"../escape.txt", "/abs.txt", `dir\evil.txt`, "a/../../b.txt", "ok/../../../c.txt"} {
		repo := "org/evil" + string(rune('a'+i))
		srv.Commit(repo, "main", hubtest.File{Path: "config.json", Data: []byte("{}")}, hubtest.File{Path: p, Data: []byte("pwned")})
		for _, local := range []bool{false, true} {
			root := t.TempDir()
			c, _ := newTestClient(t, srv)
			c.CacheDir = filepath.Join(root, "cache", "hub")
			opts := DownloadOptions{}
			if local {
				opts.LocalDir = filepath.Join(root, "local", "dir")
			}
			_, err := c.Download(context.Background(), repo, opts)
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%s (%q, local=%v): err = %v, want ErrUnsafePath", repo, p, local, err)
			}
			filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					t.Errorf("%s (%q): wrote %s", repo, p, path)
				}
				return nil
			})
		}
	}

	c, _ := newTestClient(t, srv)
	srv.ResetRequests()
	ctx := context.Background()
	for _, repo := range []string{"../x", "/abs/x", `org\x`, "org/../../x"} {
		if _, err := c.Download(ctx, repo, DownloadOptions{}); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Download(%q) = %v, want ErrUnsafePath", repo, err)
		}
	}
	for _, rev := range []string{"../../x", "/main", `a\b`} {
		if _, err := c.Download(ctx, "org/evila", DownloadOptions{Revision: rev}); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("Download(rev %q) = %v, want ErrUnsafePath", rev, err)
		}
	}
	for _, p := range []string{"../x", "/x", `a\x`} {
		if _, err := c.DownloadFile(ctx, "org/evila", "main", p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("DownloadFile(%q) = %v, want ErrUnsafePath", p, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for names refused locally", n)
	}
}

// TestRefuseBadEtag: a server whose ETag would name a file outside blobs/.
func TestRefuseBadEtag(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Repo-Commit", "0123456789012345678901234567890123456789")
		w.Header().Set("ETag", `"../../../evil"`)
		w.Header().Set("Content-Length", "5")
	}))
	defer fake.Close()
	c := &Client{Endpoint: fake.URL, CacheDir: t.TempDir(), MaxRetries: -1}
	_, err := c.DownloadFile(context.Background(), "org/x", "main", "f.txt")
	if !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("err = %v, want ErrUnsafePath", err)
	}
}
