package hub

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/internal/atomicfile"
)

// Local-directory mode follows huggingface_hub's layout so that either
// tool can update a directory the other filled:
//
//	{dir}/{path}                                          the file itself
//	{dir}/.cache/huggingface/.gitignore                   "*"
//	{dir}/.cache/huggingface/download/{path}.metadata     "{commit}\n{etag}\n{unix time}\n"
//	{dir}/.cache/huggingface/download/{path}.lock
//	{dir}/.cache/huggingface/download/{path}.{etag}.incomplete

type localPaths struct {
	file, metadata, lock, dir string
}

func localDirPaths(dir, path string) (localPaths, error) {
	file, err := under(dir, path)
	if err != nil {
		return localPaths{}, err
	}
	md, err := under(filepath.Join(dir, ".cache", "huggingface", "download"), path+".metadata")
	if err != nil {
		return localPaths{}, err
	}
	return localPaths{file: file, metadata: md, lock: strings.TrimSuffix(md, ".metadata") + ".lock", dir: dir}, nil
}

func (lp localPaths) incomplete(etag string) string {
	return strings.TrimSuffix(lp.metadata, ".metadata") + "." + etag + ".incomplete"
}

type localMeta struct {
	commit, etag string
	timestamp    float64
}

// readLocalMeta returns the recorded download metadata, or nil when it is
// missing, malformed, or older than the file (the user edited it).
func readLocalMeta(lp localPaths) *localMeta {
	f, err := os.Open(lp.metadata)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 4096))
	var lines []string
	for sc.Scan() && len(lines) < 3 {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 3 {
		return nil
	}
	ts, err := strconv.ParseFloat(lines[2], 64)
	if err != nil {
		return nil
	}
	st, err := os.Stat(lp.file)
	if err != nil || float64(st.ModTime().UnixNano())/1e9-1 > ts {
		return nil
	}
	return &localMeta{commit: lines[0], etag: lines[1], timestamp: ts}
}

func writeLocalMeta(lp localPaths, commit, etag string) error {
	now := float64(time.Now().UnixMicro()) / 1e6
	body := fmt.Sprintf("%s\n%s\n%s\n", commit, etag, strconv.FormatFloat(now, 'f', -1, 64))
	if err := os.MkdirAll(filepath.Dir(lp.metadata), 0o755); err != nil {
		return diskError(err, lp.metadata)
	}
	return diskError(atomicfile.WriteFile(lp.metadata, []byte(body), 0o644), lp.metadata)
}

// ensureGitignore keeps the metadata out of a git repository the user may
// be downloading into, as huggingface_hub does.
func ensureGitignore(dir string) {
	p := filepath.Join(dir, ".cache", "huggingface", ".gitignore")
	// A killed run may have left one being written while another worker's
	// write succeeded: nothing would ever rewrite it, so sweep here.
	atomicfile.RemoveStale(p)
	if _, err := os.Stat(p); err == nil {
		return
	}
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		atomicfile.WriteFile(p, []byte("*"), 0o644)
	}
}

// toLocalDir makes sure {dir}/{path} holds the file at commit: kept when
// its metadata (or, for LFS files, its sha256) says it is current, copied
// from the cache when the cache has it, downloaded otherwise.
func (c *Client) toLocalDir(ctx context.Context, repo, commit string, f FileInfo, dir string, prog *progress) (string, error) {
	lp, err := localDirPaths(dir, f.Path)
	if err != nil {
		return "", err
	}
	ensureGitignore(dir)
	// What a killed run was writing for this path goes, even if the file
	// turns out to be current and is not written again.
	atomicfile.RemoveStale(lp.file)
	atomicfile.RemoveStale(lp.metadata)
	md := readLocalMeta(lp)
	if md != nil && md.commit == commit && present(lp.file) {
		prog.skip(f.Size)
		return lp.file, nil
	}
	meta, err := c.headFile(ctx, repo, commit, f.Path)
	if err != nil {
		return "", err
	}
	if present(lp.file) {
		if md != nil && md.etag == meta.etag {
			prog.skip(f.Size)
			return lp.file, writeLocalMeta(lp, meta.commit, meta.etag)
		}
		if md == nil && sha256Re.MatchString(meta.etag) {
			if sum, err := sha256File(lp.file); err == nil && sum == meta.etag {
				prog.skip(f.Size)
				return lp.file, writeLocalMeta(lp, meta.commit, meta.etag)
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(lp.lock), 0o755); err != nil {
		return "", diskError(err, lp.lock)
	}
	unlock, err := lockFile(ctx, lp.lock)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := os.MkdirAll(filepath.Dir(lp.file), 0o755); err != nil {
		return "", diskError(err, lp.file)
	}
	if cached, err := c.repoCache(repo).pointer(meta.commit, f.Path); err == nil && present(cached) {
		prog.skip(f.Size)
		if err := copyFile(cached, lp.file); err != nil {
			return "", err
		}
		return lp.file, writeLocalMeta(lp, meta.commit, meta.etag)
	}
	if err := os.Remove(lp.file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tr := &transfer{
		t:          target{repo: repo, revision: commit, path: f.Path},
		url:        meta.location,
		size:       meta.size,
		etag:       meta.etag,
		sha256:     f.SHA256,
		incomplete: lp.incomplete(meta.etag),
		dest:       lp.file,
		bar:        prog.file(f.Path, meta.size),
	}
	if err := c.fetch(ctx, tr); err != nil {
		return "", err
	}
	return lp.file, writeLocalMeta(lp, meta.commit, meta.etag)
}

// offlineLocalDir answers a local-dir download without the network: the
// directory is returned if an earlier download left its metadata there.
func (c *Client) offlineLocalDir(repo, revision, dir string) (string, error) {
	if st, err := os.Stat(filepath.Join(dir, ".cache", "huggingface", "download")); err == nil && st.IsDir() {
		return filepath.Abs(dir)
	}
	why := "the Hub cannot be reached"
	if c.Offline {
		why = "offline mode (HF_HUB_OFFLINE is set)"
	}
	return "", fmt.Errorf("hub: %s and %s holds no earlier download of %q at revision %q: "+
		"run the same command once with network access: %w", why, dir, repo, revision, ErrOfflineCacheMiss)
}

func sha256File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
