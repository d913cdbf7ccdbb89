package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// pagedTree serves /api/models/o/r/tree/main as pages; page i's body is
// body(i), and every page but the last links to the next.
func pagedTree(t *testing.T, pages int, body func(i int) string) (*Client, *atomic.Int64) {
	t.Helper()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Query().Get("page"), "%d", &i)
		if i+1 < pages {
			w.Header().Set("Link", fmt.Sprintf(`</api/models/o/r/tree/main?recursive=true&page=%d>; rel="next"`, i+1))
		}
		b := body(i)
		served.Add(int64(len(b)))
		w.Write([]byte(b))
	}))
	t.Cleanup(srv.Close)
	return &Client{Endpoint: srv.URL, MaxRetries: -1}, &served
}

// TestListingBounds: a hostile tree listing is refused as soon as an entry
// or the total crosses a limit, with an error that names the limit and
// quotes no more than a little of the offending value.
func TestListingBounds(t *testing.T) {
	defer func(v int64) { maxListingBytes = v }(maxListingBytes)
	entry := func(path string) string {
		return fmt.Sprintf(`{"type":"file","path":%q,"size":1,"oid":"0000000000000000000000000000000000000000"}`, path)
	}
	longPath := strings.Repeat("a", 300<<10)
	many := func(i int) string { // ~300 KB of valid entries per page
		var b strings.Builder
		b.WriteString("[")
		for j := range 4000 {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString(entry(fmt.Sprintf("dir%d/file-%06d.bin", i, j)))
		}
		b.WriteString("]")
		return b.String()
	}
	tests := []struct {
		name     string
		pages    int
		body     func(int) string
		want     string
		maxBytes int64 // most bytes the client may have made the server send
		listing  int64 // maxListingBytes for the test
	}{
		{"over-long path", 20, func(int) string { return "[" + entry(longPath) + "]" }, "more than 4096", 1 << 20, 4 << 20},
		{"listing over the total", 100, many, fmt.Sprintf("larger than the %d bytes allowed", 1<<20), 2 << 20, 1 << 20},
		{"page over the page limit", 1, func(int) string { return "[" + strings.Repeat(" ", maxPageBytes) + "]" }, fmt.Sprintf("larger than the %d bytes allowed for one page", maxPageBytes), maxPageBytes + 2, 64 << 20},
		{"not an array", 1, func(int) string { return `{"error":"` + longPath + `"}` }, "expected a JSON array", 1 << 20, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxListingBytes = tt.listing
			c, served := pagedTree(t, tt.pages, tt.body)
			_, err := c.ListFiles(context.Background(), "o/r", "main")
			if err == nil {
				t.Fatal("hostile listing accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", clip(err.Error()), tt.want)
			}
			if len(err.Error()) > 1000 {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			if served.Load() > tt.maxBytes {
				t.Fatalf("the server was made to send %d bytes, more than %d", served.Load(), tt.maxBytes)
			}
		})
	}
}

// TestRedirectLoopNotRetried: a redirect loop cannot heal, so it fails after
// one round of hops instead of being retried with backoff.
func TestRedirectLoopNotRetried(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	sl := &sleeps{}
	c := &Client{Endpoint: srv.URL, MaxRetries: 5, sleep: sl.sleep}
	_, err := c.ListFiles(context.Background(), "o/r", "main")
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("got %v, want a redirect error", err)
	}
	if n := hits.Load(); n > maxRedirects+1 {
		t.Fatalf("%d requests for a redirect loop; retried", n)
	}
	if len(sl.all()) != 0 {
		t.Fatalf("waited %v before giving up", sl.all())
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in      string
		wantLen int
	}{
		{"short", 5},
		{strings.Repeat("é", 1000), 0},
	} {
		got := clip(tt.in)
		if tt.wantLen > 0 && got != tt.in {
			t.Errorf("clip(%q) = %q", tt.in, got)
		}
		if len(got) > maxQuoted+40 || !strings.HasPrefix(tt.in, strings.SplitN(got, "…", 2)[0]) {
			t.Errorf("clip of %d bytes gave %q", len(tt.in), got)
		}
	}
}
