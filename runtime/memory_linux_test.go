package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadFits(t *testing.T) {
	if memAvailable() <= 0 {
		t.Fatal("MemAvailable not found in /proc/meminfo")
	}
	small := filepath.Join(t.TempDir(), "small.gguf")
	if err := os.WriteFile(small, make([]byte, 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	if !readFits(small) {
		t.Error("a 1 KiB file does not fit in memory")
	}
	if readFits(filepath.Join(t.TempDir(), "missing.gguf")) {
		t.Error("a missing file fits")
	}
}
