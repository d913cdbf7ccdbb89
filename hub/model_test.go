package hub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/hub/hubtest"
)

func ggufFile(name string, seed byte) hubtest.File {
	return hubtest.File{Path: name, Data: append([]byte("GGUF"), blob(2000, seed)...), LFS: true}
}

func TestFetchModelGGUF(t *testing.T) {
	readme := hubtest.File{Path: "README.md", Data: []byte("# model")}
	tests := []struct {
		name    string
		files   []hubtest.File
		pattern string
		want    string   // chosen GGUF
		fetched []string // every file downloaded
		err     string
	}{
		{"single", []hubtest.File{ggufFile("ggml-model.gguf", 1), readme}, "", "ggml-model.gguf", []string{"ggml-model.gguf"}, ""},
		{"prefers i2_s", []hubtest.File{ggufFile("ggml-model-tl2.gguf", 1), ggufFile("ggml-model-i2_s.gguf", 2), ggufFile("ggml-model-f32.gguf", 3), readme},
			"", "ggml-model-i2_s.gguf", []string{"ggml-model-i2_s.gguf"}, ""},
		{"pattern", []hubtest.File{ggufFile("ggml-model-tl2.gguf", 1), ggufFile("ggml-model-i2_s.gguf", 2)},
			"*tl2*", "ggml-model-tl2.gguf", []string{"ggml-model-tl2.gguf"}, ""},
		{"split", []hubtest.File{ggufFile("m-i2_s-00002-of-00002.gguf", 1), ggufFile("m-i2_s-00001-of-00002.gguf", 2), ggufFile("m-f16.gguf", 3)},
			"", "m-i2_s-00001-of-00002.gguf", []string{"m-i2_s-00001-of-00002.gguf", "m-i2_s-00002-of-00002.gguf"}, ""},
		{"ambiguous", []hubtest.File{ggufFile("a-q4.gguf", 1), ggufFile("a-q8.gguf", 2)}, "", "", nil, "several GGUF models (a-q4.gguf, a-q8.gguf)"},
		{"no match", []hubtest.File{ggufFile("a-q4.gguf", 1)}, "*tl1*", "", nil, `no .gguf file in "org/m" matches "*tl1*"`},
		{"neither", []hubtest.File{readme}, "", "", nil, "neither a GGUF repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hubtest.New(t)
			commit := srv.Commit("org/m", "main", tt.files...)
			c, _ := newTestClient(t, srv)
			m, err := c.FetchModel(context.Background(), "org/m", ModelOptions{Pattern: tt.pattern})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !m.IsGGUF() || m.GGUF != filepath.Join(m.Dir, tt.want) || m.Commit != commit {
				t.Errorf("model = %+v, want GGUF %s", m, tt.want)
			}
			b, err := os.ReadFile(m.GGUF)
			if err != nil || !strings.HasPrefix(string(b), "GGUF") {
				t.Errorf("reading %s: %v", m.GGUF, err)
			}
			got, _ := c.cachedFiles("org/m", commit)
			var names []string
			for _, f := range got {
				names = append(names, f.Path)
			}
			sort.Strings(names)
			diffLists(t, names, tt.fetched)
		})
	}
}

func TestFetchModelCheckpoint(t *testing.T) {
	srv := hubtest.New(t)
	files := []hubtest.File{
		{Path: "config.json", Data: []byte(`{"model_type":"bitnet"}`)},
		{Path: "generation_config.json", Data: []byte(`{}`)},
		{Path: "model.safetensors", Data: blob(5000, 4), LFS: true},
		{Path: "tokenizer.json", Data: []byte(`{}`)},
		{Path: "tokenizer_config.json", Data: []byte(`{}`)},
		{Path: "special_tokens_map.json", Data: []byte(`{}`)},
		{Path: "README.md", Data: []byte("# readme")},
		{Path: "original/model.bin", Data: blob(100, 5)},
		{Path: ".gitattributes", Data: []byte("*.safetensors filter=lfs")},
	}
	commit := srv.Commit("microsoft/BitNet-b1.58-2B-4T", "main", files...)
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	m, err := c.FetchModel(ctx, "microsoft/BitNet-b1.58-2B-4T", ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.IsGGUF() || m.Commit != commit {
		t.Fatalf("model = %+v", m)
	}
	checkFiles(t, m.Dir, files[:6])
	for _, skip := range []string{"README.md", "original/model.bin", ".gitattributes"} {
		if _, err := os.Stat(filepath.Join(m.Dir, skip)); err == nil {
			t.Errorf("%s was downloaded", skip)
		}
	}

	// The conversion is built once and found again, also by a later run.
	calls := 0
	build := func(ctx context.Context, tmp string) error {
		calls++
		return os.WriteFile(tmp, []byte("GGUF converted"), 0o644)
	}
	p1, err := m.Converted(ctx, "ggml-model-i2_s.gguf", build)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(c.CacheDir, "models--microsoft--BitNet-b1.58-2B-4T", "converted", commit, "ggml-model-i2_s.gguf")
	if p1 != want {
		t.Errorf("converted at %s, want %s", p1, want)
	}
	m2, err := c.FetchModel(ctx, "microsoft/BitNet-b1.58-2B-4T", ModelOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m2.Converted(ctx, "ggml-model-i2_s.gguf", build)
	if err != nil || p2 != p1 || calls != 1 {
		t.Errorf("second conversion: %s, %v, build called %d times", p2, err, calls)
	}
	// A failed build leaves nothing behind.
	boom := errors.New("boom")
	_, err = m.Converted(ctx, "other.gguf", func(ctx context.Context, tmp string) error {
		os.WriteFile(tmp, []byte("half"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(p1))
	if len(entries) != 1 {
		t.Errorf("converted dir holds %d entries, want 1", len(entries))
	}
	if _, err := m.ConvertedPath("../x"); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("ConvertedPath(../x) = %v", err)
	}
}
