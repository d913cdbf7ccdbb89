package hub

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewFromEnv(t *testing.T) {
	for _, k := range []string{"HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN",
		"HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XDG_CACHE_HOME",
		"HF_HUB_DISABLE_PROGRESS_BARS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)

	c := NewFromEnv()
	if c.Endpoint != DefaultEndpoint || c.CacheDir != filepath.Join(home, ".cache", "huggingface", "hub") || c.Token != "" || c.Offline {
		t.Errorf("defaults: %+v", c)
	}

	hf := filepath.Join(home, "hf")
	t.Setenv("HF_HOME", hf)
	os.MkdirAll(hf, 0o755)
	os.WriteFile(filepath.Join(hf, "token"), []byte("hf_fromfile\n"), 0o600)
	t.Setenv("HF_ENDPOINT", "http://mirror.example/")
	t.Setenv("HF_HUB_OFFLINE", "yes")
	c = NewFromEnv()
	if c.Endpoint != "http://mirror.example" || c.CacheDir != filepath.Join(hf, "hub") || c.Token != "hf_fromfile" || !c.Offline {
		t.Errorf("HF_HOME: %+v", c)
	}

	t.Setenv("HF_TOKEN", "hf_fromenv")
	t.Setenv("HF_HUB_CACHE", "$HOME/cache")
	t.Setenv("HF_HUB_OFFLINE", "0")
	c = NewFromEnv()
	if c.Token != "hf_fromenv" || c.CacheDir != filepath.Join(home, "cache") || c.Offline {
		t.Errorf("HF_TOKEN/HF_HUB_CACHE: %+v", c)
	}
}

func TestProgressBars(t *testing.T) {
	// Not a terminal: no bars at all.
	var sink bytes.Buffer
	if p := (&Client{Progress: &sink}).newProgress(10); p != nil {
		t.Error("bars drawn on a non-terminal writer")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := (&Client{Progress: f}).newProgress(10); p != nil {
		t.Error("bars drawn on a regular file")
	}

	var buf bytes.Buffer
	p := &progress{w: &buf, total: 3 << 20, maxShown: 8}
	a := p.file("model.safetensors", 2<<20)
	b := p.file("config.json", 1<<20)
	a.add(1 << 20)
	b.finish()
	a.finish()
	p.close()
	out := buf.String()
	for _, want := range []string{"model.safetensors", "50.0%", "total", "100.0%", "3.0 MiB/3.0 MiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%q", want, out)
		}
	}
	var nilBar *fileBar
	nilBar.add(1) // a nil bar is a no-op
}
