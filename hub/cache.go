package hub

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/bitnet-go/bitnet/internal/atomicfile"
)

// repoCache names the files of one repository in the huggingface_hub cache.
// Every name it returns has been validated to stay under its directory.
type repoCache struct {
	repo  string
	dir   string // {cache}/models--org--name
	locks string // {cache}/.locks/models--org--name
}

// RepoFolderName is the directory huggingface_hub gives a model repository
// in its cache: "models--" followed by the id with "/" replaced by "--".
func RepoFolderName(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

func (c *Client) repoCache(repo string) repoCache {
	root := c.cacheDir()
	name := RepoFolderName(repo)
	return repoCache{repo: repo, dir: filepath.Join(root, name), locks: filepath.Join(root, ".locks", name)}
}

func (rc repoCache) blob(etag string) string       { return filepath.Join(rc.dir, "blobs", etag) }
func (rc repoCache) lock(etag string) string       { return filepath.Join(rc.locks, etag+".lock") }
func (rc repoCache) snapshot(commit string) string { return filepath.Join(rc.dir, "snapshots", commit) }

// under joins a validated slash path to base and checks, once more, that
// the result did not leave base.
func under(base, slashPath string) (string, error) {
	if err := validateRepoPath(slashPath); err != nil {
		return "", err
	}
	p := filepath.Join(base, filepath.FromSlash(slashPath))
	if !strings.HasPrefix(p, filepath.Clean(base)+string(filepath.Separator)) {
		return "", fmt.Errorf("hub: refusing path %q outside %s: %w", slashPath, base, ErrUnsafePath)
	}
	return p, nil
}

func (rc repoCache) pointer(commit, path string) (string, error) {
	return under(rc.snapshot(commit), path)
}

func (rc repoCache) noExist(commit, path string) (string, error) {
	return under(filepath.Join(rc.dir, ".no_exist", commit), path)
}

func (rc repoCache) ref(revision string) (string, error) {
	return under(filepath.Join(rc.dir, "refs"), revision)
}

// readRef returns the commit recorded for a branch or tag, "" if none.
func (rc repoCache) readRef(revision string) string {
	p, err := rc.ref(revision)
	if err != nil {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(b))
	if validateCommit(commit) != nil {
		return ""
	}
	return commit
}

// writeRef records revision -> commit (no trailing newline, as Python
// writes it), atomically, and only when it changed: a read-only shared
// cache that is already up to date keeps working.
func (rc repoCache) writeRef(revision, commit string) error {
	if revision == commit || rc.readRef(revision) == commit {
		return nil
	}
	p, err := rc.ref(revision)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return diskError(err, p)
	}
	return diskError(atomicfile.WriteFile(p, []byte(commit), 0o644), p)
}

// markNoExist records that path is absent at commit, as huggingface_hub
// does, so offline look-ups can tell "absent" from "not downloaded".
func (rc repoCache) markNoExist(commit, path string) {
	p, err := rc.noExist(commit, path)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.Close()
			return
		}
	}
	slog.Debug("hub: could not record a missing file", "path", p)
}

func (rc repoCache) isNoExist(commit, path string) bool {
	p, err := rc.noExist(commit, path)
	if err != nil {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// cachedCommit maps a revision to a commit using only the cache.
func (c *Client) cachedCommit(repo, revision string) (string, error) {
	rc := c.repoCache(repo)
	commit := revision
	if validateCommit(revision) != nil {
		commit = rc.readRef(revision)
	}
	if commit != "" {
		if st, err := os.Stat(rc.snapshot(commit)); err == nil && st.IsDir() {
			return commit, nil
		}
	}
	return "", c.cacheMiss(repo, revision, "", nil)
}

// cacheMiss explains that the cache cannot answer, and why we only had
// the cache to ask.
func (c *Client) cacheMiss(repo, revision, path string, cause error) error {
	what := fmt.Sprintf("repository %q at revision %q", repo, revision)
	if path != "" {
		what = fmt.Sprintf("file %q of %s", path, what)
	}
	if c.Offline {
		return fmt.Errorf("hub: offline mode (HF_HUB_OFFLINE is set) and %s is not in the cache at %s: "+
			"run `bitnet download %s` once with network access, or unset HF_HUB_OFFLINE: %w",
			what, c.cacheDir(), repo, ErrOfflineCacheMiss)
	}
	if cause == nil {
		return fmt.Errorf("hub: %s is not in the cache at %s: %w", what, c.cacheDir(), ErrOfflineCacheMiss)
	}
	return fmt.Errorf("hub: %s is not in the cache at %s and the Hub could not be reached (%v): %w",
		what, c.cacheDir(), cause, ErrOfflineCacheMiss)
}

// cachedFiles lists what a snapshot holds (files whose blob is present).
func (c *Client) cachedFiles(repo, commit string) ([]FileInfo, error) {
	root := c.repoCache(repo).snapshot(commit)
	var files []FileInfo
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p) // follows the pointer to its blob
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, FileInfo{Path: filepath.ToSlash(rel), Size: st.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hub: reading cached snapshot %s: %v", root, err)
	}
	return files, nil
}

// present reports whether p resolves to a regular file (a pointer whose
// blob is still there).
func present(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// linkPointer makes snapshots/{commit}/{path} point at its blob with a
// relative symlink (../../blobs/{etag}, one more ../ per directory level),
// so the cache can be moved. Where symlinks are not available it falls
// back to a hard link, then to a copy.
func (c *Client) linkPointer(blob, pointer string) error {
	if err := os.MkdirAll(filepath.Dir(pointer), 0o755); err != nil {
		return diskError(err, pointer)
	}
	rel, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		rel = blob
	}
	if err := os.Remove(pointer); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	symErr := c.makeSymlink(rel, pointer)
	if symErr == nil {
		return nil
	}
	if errors.Is(symErr, fs.ErrExist) && present(pointer) {
		return nil // a concurrent writer made the same pointer
	}
	slog.Debug("hub: symlinks unavailable, linking by other means", "err", symErr)
	if err := os.Link(blob, pointer); err == nil {
		return nil
	}
	return copyFile(blob, pointer)
}

// copyFile copies src to dst atomically.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := atomicfile.Create(dst)
	if err != nil {
		return diskError(err, dst)
	}
	defer out.Abort()
	if _, err := io.Copy(out, in); err != nil {
		return diskError(err, dst)
	}
	if err := out.Chmod(0o644); err != nil {
		return err
	}
	return diskError(out.Commit(), dst)
}
