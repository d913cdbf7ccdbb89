package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

// TestErrorMessages checks the documented error for each way the Hub says
// no, and that the token never appears in one.
func TestErrorMessages(t *testing.T) {
	srv := hubtest.New(t)
	files := []hubtest.File{{Path: "config.json", Data: []byte("{}")}}
	srv.Commit("org/public", "main", files...)
	srv.Commit("org/private", "main", files...)
	srv.SetPrivate("org/private")
	srv.Commit("org/gated", "main", files...)
	srv.SetGated("org/gated", false)
	srv.Commit("org/granted", "main", files...)
	srv.SetGated("org/granted", true)
	srv.Commit("org/nope", "main", files...)
	srv.SetForbidden("org/nope")

	tests := []struct {
		name, repo, rev, token string
		kind                   error // nil: success
		status                 int
		want                   []string
	}{
		{"missing anonymous", "org/missing", "", "", ErrRepoNotFound, 401,
			[]string{`repository "org/missing" not found`, "HF_TOKEN", "private"}},
		{"missing with token", "org/missing", "", "good", ErrRepoNotFound, 404,
			[]string{`repository "org/missing" not found`, "no access"}},
		{"private anonymous", "org/private", "", "", ErrRepoNotFound, 401,
			[]string{`repository "org/private" not found`, "HF_TOKEN"}},
		{"private with token", "org/private", "", "good", nil, 0, nil},
		{"bad token", "org/public", "", "hf_wrong_secret_value", ErrUnauthorized, 401,
			[]string{"token was rejected", "HF_TOKEN"}},
		{"gated anonymous", "org/gated", "", "", ErrGatedRepo, 401,
			[]string{`"org/gated" is gated`, "accept its conditions", srv.URL() + "/org/gated", "HF_TOKEN"}},
		{"gated not granted", "org/gated", "", "good", ErrGatedRepo, 403,
			[]string{`"org/gated" is gated`, "not been granted access", "not in the authorized list"}},
		{"gated granted", "org/granted", "", "good", nil, 0, nil},
		{"forbidden", "org/nope", "", "good", ErrForbidden, 403,
			[]string{`access to "org/nope" is forbidden`, "read permission"}},
		{"revision", "org/public", "v9", "", ErrRevisionNotFound, 404,
			[]string{`revision "v9" not found in repository "org/public"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, srv)
			c.Token = tt.token
			if tt.token == "good" {
				c.Token = srv.Token
			}
			_, err := c.Download(context.Background(), tt.repo, DownloadOptions{Revision: tt.rev})
			if tt.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			var he *Error
			if !errors.As(err, &he) || he.Status != tt.status {
				t.Errorf("err = %#v, want an *Error with status %d", err, tt.status)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if c.Token != "" && strings.Contains(msg, c.Token) {
				t.Errorf("message %q contains the token", msg)
			}
		})
	}
}

// TestEntryNotFound records the missing file under .no_exist, which
// huggingface_hub reads too, and the offline look-up then says "not found".
func TestEntryNotFound(t *testing.T) {
	srv := hubtest.New(t)
	commit := srv.Commit("org/public", "main", hubtest.File{Path: "config.json", Data: []byte("{}")})
	c, _ := newTestClient(t, srv)
	_, err := c.DownloadFile(context.Background(), "org/public", "main", "sub/tokenizer.model")
	if !errors.Is(err, ErrEntryNotFound) {
		t.Fatalf("err = %v, want ErrEntryNotFound", err)
	}
	if want := `file "sub/tokenizer.model" not found in repository "org/public" at revision "main"`; !strings.Contains(err.Error(), want) {
		t.Errorf("message %q lacks %q", err, want)
	}
	marker := filepath.Join(c.CacheDir, "models--org--public", ".no_exist", commit, "sub", "tokenizer.model")
	if st, err := os.Stat(marker); err != nil || st.Size() != 0 {
		t.Errorf(".no_exist marker: %v, %v", st, err)
	}
	c.Offline = true
	if _, err := c.DownloadFile(context.Background(), "org/public", "main", "sub/tokenizer.model"); !errors.Is(err, ErrEntryNotFound) {
		t.Errorf("offline: err = %v, want ErrEntryNotFound from the marker", err)
	}
}

// TestTokenNeverLeaks makes every request fail in a way that produces an
// error and checks none of the errors carries the token.
func TestTokenNeverLeaks(t *testing.T) {
	srv := hubtest.New(t)
	f := hubtest.File{Path: "model.safetensors", Data: blob(1000, 3), LFS: true}
	srv.Commit("org/x", "main", f)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Status: 500, Times: 100})
	c, _ := newTestClient(t, srv)
	c.Token = srv.Token
	_, err := c.Download(context.Background(), "org/x", DownloadOptions{})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), srv.Token) || strings.Contains(err.Error(), "cdnsig") {
		t.Errorf("error leaks a credential: %v", err)
	}
	dead := &Client{Endpoint: "http://" + srv.Token + "@127.0.0.1:1", Token: srv.Token, CacheDir: t.TempDir(), MaxRetries: -1}
	_, err = dead.Download(context.Background(), "org/x", DownloadOptions{})
	if err == nil || strings.Contains(err.Error(), srv.Token) {
		t.Errorf("unreachable endpoint: error %v leaks the token", err)
	}
}
