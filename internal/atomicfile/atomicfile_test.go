package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.bin")

	f, err := Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("destination visible before commit: %v", err)
	}
	f.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("abort left files behind: %v", entries)
	}

	if err := WriteFile(dst, []byte("whole"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil || string(got) != "whole" {
		t.Fatalf("got %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	st, _ := os.Stat(dst)
	if st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
}

func TestCommitTwice(t *testing.T) {
	f, err := Create(filepath.Join(t.TempDir(), "x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err == nil {
		t.Fatal("second commit succeeded")
	}
	f.Abort() // no-op, must not remove the committed file
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.Name()), "x")); err != nil {
		t.Fatal(err)
	}
}

// TestStaleTempFiles: a writer that died before Commit (its temporary file
// exists but nobody holds its lock) is cleaned up by the next Create of the
// same destination, while a live writer's file is left alone.
func TestStaleTempFiles(t *testing.T) {
	if !lockingSupported {
		t.Skip("no file locks on this platform")
	}
	dir := t.TempDir()
	dst := filepath.Join(dir, "model.gguf")
	orphan := filepath.Join(dir, ".model.gguf.tmp-123456")
	if err := os.WriteFile(orphan, make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, ".other.gguf.tmp-123456") // another destination's
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	live, err := Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Fatalf("orphaned temporary file survived Create: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another destination's temporary file was removed: %v", err)
	}
	second, err := Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Fatalf("a live writer's temporary file was removed: %v", err)
	}
	if _, err := live.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := live.Commit(); err != nil {
		t.Fatal(err)
	}
	second.Abort()
	if n := RemoveStale(dst); n != 0 {
		t.Fatalf("RemoveStale removed %d files after clean writes", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("left in the directory: %v", entries)
	}
}

// TestCreateErrorNamesDestination: writing into a missing directory names
// the user's path, not the temporary file's pattern.
func TestCreateErrorNamesDestination(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "missing", "x.gguf")
	_, err := Create(dst)
	if err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
	if !strings.Contains(err.Error(), dst) || strings.Contains(err.Error(), ".tmp-") {
		t.Fatalf("error %q should name %s and not the temporary file", err, dst)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %q should wrap fs.ErrNotExist", err)
	}
}
