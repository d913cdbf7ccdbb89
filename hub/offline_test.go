package hub

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func TestOffline(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	commit := srv.Commit("org/tiny", "main", files...)
	ctx := context.Background()
	online, _ := newTestClient(t, srv)
	want, err := online.Download(ctx, "org/tiny", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()

	warm := &Client{Endpoint: srv.URL(), CacheDir: online.CacheDir, Offline: true}
	t.Run("warm snapshot", func(t *testing.T) {
		for _, rev := range []string{"", "main", commit} {
			got, err := warm.Download(ctx, "org/tiny", DownloadOptions{Revision: rev})
			if err != nil || got != want {
				t.Errorf("rev %q: %s, %v; want %s", rev, got, err, want)
			}
		}
		checkFiles(t, want, files)
	})
	t.Run("warm file", func(t *testing.T) {
		p, err := warm.DownloadFile(ctx, "org/tiny", "main", "sub/tokenizer.json")
		if err != nil || string(mustRead(t, p)) != string(files[2].Data) {
			t.Errorf("%s, %v", p, err)
		}
		if c, err := warm.ResolveRevision(ctx, "org/tiny", "main"); err != nil || c != commit {
			t.Errorf("ResolveRevision offline = %s, %v", c, err)
		}
		list, err := warm.ListFiles(ctx, "org/tiny", "main")
		if err != nil || len(list) != len(files) {
			t.Errorf("ListFiles offline = %v, %v", list, err)
		}
	})
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("offline mode sent %d requests", n)
	}

	cold := &Client{Endpoint: srv.URL(), CacheDir: t.TempDir(), Offline: true}
	tests := []struct {
		name string
		run  func() error
	}{
		{"cold snapshot", func() error { _, err := cold.Download(ctx, "org/tiny", DownloadOptions{}); return err }},
		{"cold file", func() error { _, err := cold.DownloadFile(ctx, "org/tiny", "main", "config.json"); return err }},
		{"cold model", func() error { _, err := cold.FetchModel(ctx, "org/tiny", ModelOptions{}); return err }},
		{"cold local dir", func() error {
			_, err := cold.Download(ctx, "org/tiny", DownloadOptions{LocalDir: t.TempDir()})
			return err
		}},
		{"unknown revision", func() error {
			_, err := warm.Download(ctx, "org/tiny", DownloadOptions{Revision: "v2"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, ErrOfflineCacheMiss) {
				t.Fatalf("err = %v, want ErrOfflineCacheMiss", err)
			}
			if !strings.Contains(err.Error(), "HF_HUB_OFFLINE") || !strings.Contains(err.Error(), "org/tiny") {
				t.Errorf("message %q should name the repository and HF_HUB_OFFLINE", err)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("offline mode sent %d requests", n)
	}
}

// TestUnreachableFallsBackToCache: with the network down, a cached
// snapshot serves (as huggingface_hub does); a cold cache says both why.
func TestUnreachableFallsBackToCache(t *testing.T) {
	srv := hubtest.New(t)
	files := tinyRepo()
	srv.Commit("org/tiny", "main", files...)
	ctx := context.Background()
	online, _ := newTestClient(t, srv)
	want, err := online.Download(ctx, "org/tiny", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	down := httptest.NewServer(nil)
	deadURL := down.URL
	down.Close()

	c := &Client{Endpoint: deadURL, CacheDir: online.CacheDir, MaxRetries: -1}
	if got, err := c.Download(ctx, "org/tiny", DownloadOptions{}); err != nil || got != want {
		t.Errorf("warm: %s, %v; want %s", got, err, want)
	}
	if _, err := c.DownloadFile(ctx, "org/tiny", "main", "config.json"); err != nil {
		t.Errorf("warm file: %v", err)
	}
	if m, err := c.FetchModel(ctx, "org/tiny", ModelOptions{}); err != nil || m.Dir != want {
		t.Errorf("warm model: %+v, %v", m, err)
	}
	c.CacheDir = t.TempDir()
	_, err = c.Download(ctx, "org/tiny", DownloadOptions{})
	if !errors.Is(err, ErrOfflineCacheMiss) || !strings.Contains(err.Error(), "could not be reached") {
		t.Errorf("cold: err = %v", err)
	}
}
