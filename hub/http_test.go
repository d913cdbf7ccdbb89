package hub

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func TestIsHub(t *testing.T) {
	c := &Client{Endpoint: "https://huggingface.co/"}
	tests := []struct {
		u    string
		want bool
	}{
		{"https://huggingface.co/api/models/x", true},
		{"https://HuggingFace.co/x", true},
		{"http://huggingface.co/x", false}, // downgraded
		{"https://cdn-lfs.huggingface.co/x", false},
		{"https://huggingface.co.evil.com/x", false},
		{"https://huggingface.co:8443/x", false},
		{"https://cas-bridge.xethub.hf.co/x", false},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.u)
		if got := c.isHub(u); got != tt.want {
			t.Errorf("isHub(%s) = %v, want %v", tt.u, got, tt.want)
		}
	}
}

// TestRedirectDropsToken: the Hub answers a file GET (not only the HEAD)
// with a redirect to another host; the token must not follow it.
func TestRedirectDropsToken(t *testing.T) {
	data := []byte("hello, world")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the other host received Authorization on %s %s", r.Method, r.URL)
		}
		w.Write(data)
	}))
	defer other.Close()
	const token = "hf_secret"
	commit := "0123456789abcdef0123456789abcdef01234567"
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			t.Errorf("the Hub did not receive the token on %s %s", r.Method, r.URL)
		}
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("ETag", `"`+hubtest.GitOID(data)+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodGet {
			http.Redirect(w, r, other.URL+"/blob", http.StatusFound)
		}
	}))
	defer hub.Close()
	c := &Client{Endpoint: hub.URL, Token: token, CacheDir: t.TempDir(), MaxRetries: -1}
	p, err := c.DownloadFile(context.Background(), "org/x", "main", "f.txt")
	if err != nil {
		t.Fatal(err)
	}
	if string(mustRead(t, p)) != string(data) {
		t.Error("content differs")
	}
}
