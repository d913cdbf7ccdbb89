package hub

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		// Retries and fallbacks warn on purpose in these tests.
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

// sleeps records the waits a client asked for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestClient returns a client for srv with a fresh cache whose retries
// do not wait.
func newTestClient(t *testing.T, srv *hubtest.Server) (*Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	c := &Client{
		Endpoint:   srv.URL(),
		CacheDir:   filepath.Join(t.TempDir(), "hub"),
		Workers:    4,
		MaxRetries: 3,
		sleep:      sl.sleep,
	}
	return c, sl
}

// blob makes deterministic, non-repeating test content.
func blob(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// tinyRepo is a multi-file repository with an LFS file, a nested file and
// a weak ETag, like a small model checkpoint.
func tinyRepo() []hubtest.File {
	return []hubtest.File{
		{Path: "config.json", Data: []byte(`{"architectures":["BitnetForCausalLM"]}`)},
		{Path: "README.md", Data: []byte("# tiny\n"), WeakETag: true},
		{Path: "sub/tokenizer.json", Data: []byte(`{"model":{"type":"BPE"}}`)},
		{Path: "model.safetensors", Data: blob(300_000, 1), LFS: true},
	}
}

// tree lists everything under root: directories end in "/", symlinks show
// their target, regular files their content when it is short text.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out = append(out, rel+" -> "+target)
		case d.IsDir():
			out = append(out, rel+"/")
		default:
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func diffLists(t *testing.T, got, want []string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tree mismatch\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkFiles(t *testing.T, dir string, files []hubtest.File) {
	t.Helper()
	for _, f := range files {
		got := mustRead(t, filepath.Join(dir, filepath.FromSlash(f.Path)))
		if !bytes.Equal(got, f.Data) {
			t.Errorf("%s: content differs (%d bytes, want %d)", f.Path, len(got), len(f.Data))
		}
	}
}

func countReq(reqs []hubtest.Request, server, method string) int {
	n := 0
	for _, r := range reqs {
		if r.Server == server && r.Method == method {
			n++
		}
	}
	return n
}

// fileGETs counts GETs of file content (not API calls), on either server.
func fileGETs(reqs []hubtest.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "GET" && !strings.HasPrefix(r.Path, "/api/") {
			n++
		}
	}
	return n
}
