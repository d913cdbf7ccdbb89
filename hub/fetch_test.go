package hub

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func lfsRepo(srv *hubtest.Server) (hubtest.File, string) {
	f := hubtest.File{Path: "model.safetensors", Data: blob(1_000_000, 7), LFS: true}
	commit := srv.Commit("org/big", "main", f, hubtest.File{Path: "config.json", Data: []byte("{}")})
	return f, commit
}

func cdnRanges(reqs []hubtest.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Server == "cdn" && r.Method == "GET" {
			out = append(out, r.Range)
		}
	}
	return out
}

// TestResumeAcrossRuns cuts the connection mid-file so that the first run
// fails, then runs again: the second run must continue from the partial
// file with a Range request and end with the right sha256.
func TestResumeAcrossRuns(t *testing.T) {
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", DropAfter: 300_000, Times: 100})
	c, _ := newTestClient(t, srv)
	c.MaxRetries = -1
	ctx := context.Background()

	_, err := c.Download(ctx, "org/big", DownloadOptions{})
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("first run: err = %v, want an interrupted download", err)
	}
	sum := hubtest.SHA256(f.Data)
	partial := filepath.Join(c.CacheDir, "models--org--big", "blobs", sum+".incomplete")
	st, err := os.Stat(partial)
	if err != nil || st.Size() != 300_000 {
		t.Fatalf("partial file after the first run: %v, %v; want 300000 bytes", st, err)
	}

	srv.ClearFaults()
	srv.ResetRequests()
	c2, _ := newTestClient(t, srv) // a new process, same cache
	c2.CacheDir = c.CacheDir
	dir, err := c2.Download(ctx, "org/big", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cdnRanges(srv.Requests()); len(got) != 1 || got[0] != "bytes=300000-" {
		t.Errorf("second run CDN requests with ranges %q, want one from byte 300000", got)
	}
	got, err := sha256File(filepath.Join(dir, f.Path))
	if err != nil || got != sum {
		t.Errorf("sha256 after resume = %s, %v; want %s", got, err, sum)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("partial file still there: %v", err)
	}
}

// TestResumeWithinRun drops the connection twice; retries resume where the
// data stopped, and the retry budget is renewed after progress.
func TestResumeWithinRun(t *testing.T) {
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", DropAfter: 300_000, Times: 2})
	c, sl := newTestClient(t, srv)
	c.MaxRetries = 1
	dir, err := c.Download(context.Background(), "org/big", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "bytes=300000-", "bytes=600000-"}
	if got := cdnRanges(srv.Requests()); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("CDN ranges %q, want %q", got, want)
	}
	checkFiles(t, dir, []hubtest.File{f})
	if len(sl.all()) != 2 {
		t.Errorf("waited %v, want two backoffs", sl.all())
	}
}

// TestCorruptOnce serves one flipped byte: the download is detected as
// corrupt, removed, fetched again from scratch, and ends correct.
func TestCorruptOnce(t *testing.T) {
	tests := []struct {
		name string
		path string
		cdn  bool
	}{
		{"lfs sha256", "model.safetensors", true},
		{"git sha1", "config.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hubtest.New(t)
			f, _ := lfsRepo(srv)
			cfg := hubtest.File{Path: "config.json", Data: []byte("{}")}
			srv.AddFault(hubtest.Fault{Path: tt.path, CDN: tt.cdn, Method: "GET", Corrupt: true})
			c, _ := newTestClient(t, srv)
			dir, err := c.Download(context.Background(), "org/big", DownloadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, dir, []hubtest.File{f, cfg})
			server := "hub"
			if tt.cdn {
				server = "cdn"
			}
			gets := 0
			for _, r := range srv.Requests() {
				if r.Server == server && r.Method == "GET" && (tt.cdn || strings.HasSuffix(r.Path, tt.path)) {
					gets++
					if r.Range != "" {
						t.Errorf("the retry after corruption resumed (%s) instead of starting over", r.Range)
					}
				}
			}
			if gets != 2 {
				t.Errorf("GETs of %s = %d, want 2", tt.path, gets)
			}
		})
	}
}

func TestCorruptAlways(t *testing.T) {
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", Corrupt: true, Times: 10})
	c, _ := newTestClient(t, srv)
	_, err := c.Download(context.Background(), "org/big", DownloadOptions{Include: []string{f.Path}})
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	if !strings.Contains(err.Error(), "sha256 mismatch") || !strings.Contains(err.Error(), "removed") {
		t.Errorf("message %q should name the mismatch and say the file was removed", err)
	}
	blobs := filepath.Join(c.CacheDir, "models--org--big", "blobs")
	entries, _ := os.ReadDir(blobs)
	for _, e := range entries {
		t.Errorf("left in blobs/: %s", e.Name())
	}
}

// TestRetryAfter answers 429 with Retry-After, then 503 twice: the client
// waits what the server asked, then backs off exponentially.
func TestRetryAfter(t *testing.T) {
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, Method: "HEAD", Status: 429, RetryAfter: "7"})
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", Status: 503, Times: 2})
	srv.AddFault(hubtest.Fault{Path: "config.json", Method: "GET", Status: 408})
	c, sl := newTestClient(t, srv)
	c.Workers = 1
	dir, err := c.Download(context.Background(), "org/big", DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, []hubtest.File{f})
	got := map[time.Duration]int{}
	for _, d := range sl.all() {
		got[d]++
	}
	want := map[time.Duration]int{7 * time.Second: 1, time.Second: 2, 2 * time.Second: 1}
	if len(got) != len(want) {
		t.Fatalf("waits %v, want %v", sl.all(), want)
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("waits %v, want %v", sl.all(), want)
		}
	}
}

func TestServerErrorGivesUp(t *testing.T) {
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", Status: 500, Times: 100})
	c, sl := newTestClient(t, srv)
	_, err := c.Download(context.Background(), "org/big", DownloadOptions{Include: []string{f.Path}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err = %v, want HTTP 500", err)
	}
	if n := len(sl.all()); n != c.MaxRetries {
		t.Errorf("retried %d times, want %d", n, c.MaxRetries)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"99999", maxRetryAfter, true},
		{now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestDiskFull writes the partial file into /dev/full, which fails every
// write with ENOSPC, and expects an error that says so.
func TestDiskFull(t *testing.T) {
	if f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err != nil {
		t.Skip("no /dev/full on this system")
	} else {
		f.Close()
	}
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	c, _ := newTestClient(t, srv)
	blobs := filepath.Join(c.CacheDir, "models--org--big", "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/full", filepath.Join(blobs, hubtest.SHA256(f.Data)+".incomplete")); err != nil {
		t.Fatal(err)
	}
	_, err := c.Download(context.Background(), "org/big", DownloadOptions{Include: []string{f.Path}})
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want ErrDiskFull", err)
	}
}

// TestStalledConnections: a server that stops sending mid-body, or never
// answers, is given up on after a timeout and the download resumes.
func TestStalledConnections(t *testing.T) {
	defer func(s, h time.Duration) { stallTimeout, headerTimeout = s, h }(stallTimeout, headerTimeout)
	stallTimeout, headerTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv := hubtest.New(t)
	f, _ := lfsRepo(srv)
	srv.AddFault(hubtest.Fault{Path: f.Path, Method: "HEAD", Delay: true})
	srv.AddFault(hubtest.Fault{Path: f.Path, CDN: true, Method: "GET", DropAfter: 400_000, Hang: true})
	c, _ := newTestClient(t, srv)
	dir, err := c.Download(context.Background(), "org/big", DownloadOptions{Include: []string{f.Path}})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, []hubtest.File{f})
	if got := cdnRanges(srv.Requests()); len(got) != 2 || got[1] != "bytes=400000-" {
		t.Errorf("CDN ranges %q, want a resume from 400000", got)
	}
}
