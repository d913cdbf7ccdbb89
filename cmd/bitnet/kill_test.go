//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/hub/hubtest"
)

// The kill test runs the real command in a child process (this test binary
// re-executed as bitnet), kills it with SIGKILL or SIGINT at a chosen point
// of its work, runs it again, and checks that the result is byte for byte
// the uninterrupted one and that no temporary file is left anywhere.

// asMainEnv makes the test binary run main() with the arguments after "--".
const asMainEnv = "BITNET_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"bitnet"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// bitnetCmd is `bitnet args...` as a child process.
func bitnetCmd(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), asMainEnv+"=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t.Cleanup(func() {
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("bitnet %s: %s", strings.Join(args, " "), stderr.String())
		}
	})
	return cmd
}

// runBitnet runs bitnet to completion.
func runBitnet(t *testing.T, env []string, args ...string) {
	t.Helper()
	cmd := bitnetCmd(t, env, args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("bitnet %s: %v", strings.Join(args, " "), err)
	}
}

// killPoint says when to signal the child: once ready reports true.
type killPoint struct {
	name  string
	ready func() bool
}

// killAt starts bitnet, waits for the kill point, sends sig, and returns
// whether the child died of it (false: it finished first).
func killAt(t *testing.T, env []string, kp killPoint, sig syscall.Signal, args ...string) {
	t.Helper()
	cmd := bitnetCmd(t, env, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for !kp.ready() {
		select {
		case err := <-exited:
			t.Logf("%s: finished before the kill point (%v)", kp.name, err)
			return
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("%s: kill point never reached", kp.name)
		case <-time.After(time.Millisecond):
		}
	}
	cmd.Process.Signal(sig)
	err := <-exited
	var ee *exec.ExitError
	switch {
	case err == nil:
		t.Logf("%s: finished despite %v", kp.name, sig)
	case !errors.As(err, &ee):
		t.Fatal(err)
	case sig == syscall.SIGKILL:
		if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() {
			t.Fatalf("%s: not killed: %v", kp.name, err)
		}
	case sig == syscall.SIGINT:
		// Handled: the command unwinds and exits 130, its clean-up done.
		if ee.ExitCode() != 130 {
			t.Fatalf("%s: exit status %d after SIGINT, want 130", kp.name, ee.ExitCode())
		}
	}
}

// leftovers lists the temporary files under dir. keepPartial allows a
// download's resumable partial files (*.incomplete).
func leftovers(t *testing.T, dir string, keepPartial bool) []string {
	t.Helper()
	var bad []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		n := d.Name()
		if strings.Contains(n, ".tmp-") || (!keepPartial && strings.HasSuffix(n, ".incomplete")) {
			bad = append(bad, p)
		}
		return nil
	})
	return bad
}

// tree hashes every regular file under dir by relative path (lock files
// excluded: they are the cache's, empty and reused).
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".lock") || strings.HasSuffix(p, ".metadata") {
			return nil // locks are reused; a local dir's metadata records the download's time
		}
		b, err := os.ReadFile(p) // follows the cache's symlinks
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	return out
}

func sameTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range want {
		if got[k] != v {
			diffs = append(diffs, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, k+" (extra)")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: differs from the uninterrupted run: %v", what, diffs)
	}
}

// sizeAtLeast is ready once a temporary file of base in dir has n bytes.
func sizeAtLeast(dir, pattern string, n int64) func() bool {
	return func() bool {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, p := range m {
			if st, err := os.Stat(p); err == nil && st.Size() >= n {
				return true
			}
		}
		return false
	}
}

var signals = []syscall.Signal{syscall.SIGKILL, syscall.SIGINT}

// killAndRerun runs the command of args once into a fresh directory as the
// reference, then, for every signal, kills a run writing file when its
// temporary file is empty and when it holds at bytes, and reruns it: no
// temporary file may be left (after SIGINT, and after the rerun) and the
// directory must equal the reference's.
func killAndRerun(t *testing.T, name, file string, args func(out string) []string, at int64) {
	t.Helper()
	ref := filepath.Join(t.TempDir(), file)
	runBitnet(t, nil, args(ref)...)
	want := tree(t, filepath.Dir(ref))
	for _, sig := range signals {
		for _, at := range []int64{1, at} {
			dir := t.TempDir()
			out := filepath.Join(dir, file)
			kp := killPoint{name: name + " " + sig.String() + " at " + byteCount(at), ready: sizeAtLeast(dir, "."+file+".tmp-*", at)}
			killAt(t, nil, kp, sig, args(out)...)
			if sig == syscall.SIGINT {
				if left := leftovers(t, dir, false); len(left) > 0 {
					t.Errorf("%s: left behind after SIGINT: %v", kp.name, left)
				}
			}
			runBitnet(t, nil, args(out)...)
			if left := leftovers(t, dir, false); len(left) > 0 {
				t.Errorf("%s: left behind after the rerun: %v", kp.name, left)
			}
			sameTree(t, kp.name, tree(t, dir), want)
		}
	}
}

func TestKillAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Run("dummy", func(t *testing.T) {
		args := func(out string) []string {
			return []string{"dummy", "--size", "125M", "-q", "--workers", "2", "-o", out}
		}
		killAndRerun(t, "dummy", "ref.gguf", args, 24<<20)
	})

	t.Run("convert", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "ckpt")
		l := convert.Layout{
			Name: "kill", HFArchitecture: "BitnetForCausalLM", HiddenAct: "silu",
			Hidden: 512, FFN: 1024, Layers: 2, Heads: 8, KVHeads: 8, HeadDim: 64,
			Vocab: 24000, Context: 256, RopeTheta: 10000, Tied: true,
		}
		if err := convert.WriteDummyHF(context.Background(), src, convert.DummyOptions{Layout: &l, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		args := func(out string) []string { return []string{"convert", src, "-q", "--workers", "2", "-o", out} }
		killAndRerun(t, "convert", "m.gguf", args, 12<<20)
	})

	t.Run("download", func(t *testing.T) {
		srv := hubtest.New(t)
		files := []hubtest.File{
			{Path: "config.json", Data: []byte(`{"architectures":["BitnetForCausalLM"]}`)},
			{Path: "model-00001-of-00002.safetensors", Data: bytes.Repeat([]byte("0123456789abcdef"), 1<<16), LFS: true},
			{Path: "model-00002-of-00002.safetensors", Data: bytes.Repeat([]byte("fedcba9876543210"), 1<<16), LFS: true},
			{Path: "tokenizer.json", Data: []byte(`{"model":{}}`)},
		}
		srv.Commit("org/m", "main", files...)
		for _, mode := range []string{"cache", "local-dir"} {
			// download returns the environment, the arguments, and the
			// directory whose files must match the uninterrupted run's.
			download := func(home string) ([]string, []string, string) {
				env := []string{"HF_ENDPOINT=" + srv.URL(), "HF_HOME=" + home, "HF_HUB_CACHE=" + filepath.Join(home, "hub"),
					"HF_TOKEN=", "HF_HUB_OFFLINE=", "HF_HUB_DISABLE_PROGRESS_BARS=1"}
				if mode == "cache" {
					return env, []string{"download", "org/m"}, filepath.Join(home, "hub")
				}
				return env, []string{"download", "org/m", "--local-dir", filepath.Join(home, "out")}, filepath.Join(home, "out")
			}
			srv.ClearFaults()
			env, args, out := download(t.TempDir())
			runBitnet(t, env, args...)
			want := tree(t, out)
			if len(want) < len(files) {
				t.Fatalf("%s: reference download has %d files", mode, len(want))
			}
			for _, sig := range signals {
				for _, f := range files[1:3] { // mid-way through each large file
					srv.ClearFaults()
					// The CDN sends 300 KB of the file, then goes silent: the
					// client is stuck mid-file, its partial file on disk.
					srv.AddFault(hubtest.Fault{Path: f.Path, Method: "GET", CDN: true, DropAfter: 300 << 10, Hang: true, Times: 100})
					home := t.TempDir()
					env, args, out := download(home)
					kp := killPoint{name: "download (" + mode + ") " + sig.String() + " in " + f.Path, ready: partialAtLeast(home, 300<<10)}
					killAt(t, env, kp, sig, args...)
					if sig == syscall.SIGINT {
						if left := leftovers(t, home, true); len(left) > 0 {
							t.Errorf("%s: left behind after SIGINT: %v", kp.name, left)
						}
					}
					srv.ClearFaults()
					runBitnet(t, env, args...)
					if left := leftovers(t, home, false); len(left) > 0 {
						t.Errorf("%s: left behind after the rerun: %v", kp.name, left)
					}
					sameTree(t, kp.name, tree(t, out), want)
				}
			}
		}
	})
}

// partialAtLeast is ready once a download's partial file under home has n
// bytes.
func partialAtLeast(home string, n int64) func() bool {
	return func() bool {
		found := false
		filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".incomplete") {
				if st, err := os.Stat(p); err == nil && st.Size() >= n {
					found = true
				}
			}
			return nil
		})
		return found
	}
}

func byteCount(n int64) string {
	if n < 1<<20 {
		return "first byte"
	}
	return humanBytes(uint64(n))
}
