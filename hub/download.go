package hub

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"
)

// DownloadOptions selects what Download fetches and where it puts it.
type DownloadOptions struct {
	// Revision is a branch, tag, commit or refs/pr/N; empty means "main".
	Revision string
	// Include keeps only files matching one of these patterns (see
	// MatchGlob); empty keeps every file.
	Include []string
	// Exclude drops files matching one of these patterns.
	Exclude []string
	// LocalDir, when set, receives plain files laid out as in the
	// repository instead of the cache, with huggingface_hub's download
	// metadata under LocalDir/.cache/huggingface/download/ so that a later
	// run (ours or Python's) only fetches what changed.
	LocalDir string
}

// Download fetches a snapshot of a repository (huggingface_hub's
// snapshot_download) and returns the directory holding it:
// {cache}/models--org--name/snapshots/{commit}, or the absolute LocalDir.
//
// Files already in the cache are not fetched again; a partial file left by
// an interrupted run is resumed. Offline (Client.Offline), or when the Hub
// cannot be reached, a snapshot already in the cache is returned, and
// otherwise an error wrapping ErrOfflineCacheMiss.
func (c *Client) Download(ctx context.Context, repo string, opts DownloadOptions) (string, error) {
	rev := opts.Revision
	if rev == "" {
		rev = "main"
	}
	if err := ValidateRepoID(repo); err != nil {
		return "", err
	}
	if err := validateRevision(rev); err != nil {
		return "", err
	}
	if opts.LocalDir != "" && c.Offline {
		return c.offlineLocalDir(repo, rev, opts.LocalDir)
	}
	commit, cached, err := c.resolve(ctx, repo, rev)
	if err != nil {
		return "", err
	}
	rc := c.repoCache(repo)
	if cached {
		if opts.LocalDir != "" {
			return c.offlineLocalDir(repo, rev, opts.LocalDir)
		}
		return rc.snapshot(commit), nil
	}
	files, err := c.ListFiles(ctx, repo, commit)
	if err != nil {
		return "", err
	}
	files = filterFiles(files, opts.Include, opts.Exclude)
	for _, f := range files {
		// Refuse before anything is written, rather than half-way.
		if err := validateRepoPath(f.Path); err != nil {
			return "", err
		}
	}
	if opts.LocalDir == "" {
		if err := rc.writeRef(rev, commit); err != nil {
			return "", err
		}
		if err := os.MkdirAll(rc.snapshot(commit), 0o755); err != nil {
			return "", diskError(err, rc.snapshot(commit))
		}
	}
	if err := c.fetchAll(ctx, repo, commit, files, opts.LocalDir); err != nil {
		return "", err
	}
	if opts.LocalDir != "" {
		return filepath.Abs(opts.LocalDir)
	}
	return rc.snapshot(commit), nil
}

// DownloadFile fetches one file of a repository (huggingface_hub's
// hf_hub_download) into the cache and returns its path in the snapshot.
// A file the Hub reports missing is recorded under .no_exist so that an
// offline look-up later says "not found" rather than "not cached".
func (c *Client) DownloadFile(ctx context.Context, repo, revision, path string) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if err := ValidateRepoID(repo); err != nil {
		return "", err
	}
	if err := validateRevision(revision); err != nil {
		return "", err
	}
	if err := validateRepoPath(path); err != nil {
		return "", err
	}
	if c.Offline {
		return c.cachedFile(repo, revision, path, nil)
	}
	p, err := c.toCache(ctx, repo, revision, FileInfo{Path: path}, nil)
	if err != nil && unreachable(err) {
		if cp, cerr := c.cachedFile(repo, revision, path, err); cerr == nil {
			slog.Warn("hub: the Hub cannot be reached; using the cached file", "repo", repo, "file", path, "err", err)
			return cp, nil
		} else {
			return "", cerr
		}
	}
	return p, err
}

// resolve maps a revision to a commit: online through the revision API,
// from the cache's refs when offline or when the Hub cannot be reached
// (cached is then true).
func (c *Client) resolve(ctx context.Context, repo, revision string) (commit string, cached bool, err error) {
	if c.Offline {
		commit, err := c.cachedCommit(repo, revision)
		return commit, true, err
	}
	info, err := c.repoInfo(ctx, repo, revision)
	if err == nil {
		return info.SHA, false, nil
	}
	if !unreachable(err) {
		return "", false, err
	}
	commit, cerr := c.cachedCommit(repo, revision)
	if cerr != nil {
		return "", false, c.cacheMiss(repo, revision, "", err)
	}
	slog.Warn("hub: the Hub cannot be reached; using the cached snapshot", "repo", repo, "revision", revision, "commit", commit, "err", err)
	return commit, true, nil
}

// unreachable reports failures that say nothing about the repository
// itself (network down, Hub overloaded), after which the cache may answer.
func unreachable(err error) bool {
	var ne *networkError
	if errors.As(err, &ne) {
		return true
	}
	var he *Error
	return errors.As(err, &he) && he.Kind == nil && (he.Status >= 500 || he.Status == 429 || he.Status == 408)
}

// cachedFile finds a file in the cache without the network.
func (c *Client) cachedFile(repo, revision, path string, cause error) (string, error) {
	rc := c.repoCache(repo)
	commit := revision
	if validateCommit(revision) != nil {
		commit = rc.readRef(revision)
	}
	if commit != "" {
		if rc.isNoExist(commit, path) {
			return "", &Error{Kind: ErrEntryNotFound, Repo: repo, Revision: revision, Path: path, Endpoint: c.displayEndpoint()}
		}
		if p, err := rc.pointer(commit, path); err == nil && present(p) {
			return p, nil
		}
	}
	return "", c.cacheMiss(repo, revision, path, cause)
}

// fetchAll downloads files in parallel, into the cache or localDir.
func (c *Client) fetchAll(ctx context.Context, repo, commit string, files []FileInfo, localDir string) error {
	rc := c.repoCache(repo)
	var total int64
	for _, f := range files {
		if localDir == "" {
			if p, err := rc.pointer(commit, f.Path); err == nil && present(p) {
				continue
			}
		}
		total += f.Size
	}
	prog := c.newProgress(total)
	defer prog.close()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.workers())
	for _, f := range files {
		g.Go(func() error {
			var err error
			if localDir != "" {
				_, err = c.toLocalDir(gctx, repo, commit, f, localDir, prog)
			} else {
				_, err = c.toCache(gctx, repo, commit, f, prog)
			}
			return err
		})
	}
	return g.Wait()
}

// toCache makes sure snapshots/{commit}/{path} exists, downloading its blob
// if needed, and returns the pointer's path. revision may be a branch; the
// commit then comes from the resolve endpoint and the ref is recorded.
func (c *Client) toCache(ctx context.Context, repo, revision string, f FileInfo, prog *progress) (string, error) {
	rc := c.repoCache(repo)
	if validateCommit(revision) == nil {
		p, err := rc.pointer(revision, f.Path)
		if err != nil {
			return "", err
		}
		if present(p) {
			return p, nil
		}
	}
	meta, err := c.headFile(ctx, repo, revision, f.Path)
	if err != nil {
		if errors.Is(err, ErrEntryNotFound) && validateCommit(meta.commit) == nil {
			rc.markNoExist(meta.commit, f.Path)
			if revision != meta.commit {
				rc.writeRef(revision, meta.commit)
			}
		}
		return "", err
	}
	if revision != meta.commit {
		if err := rc.writeRef(revision, meta.commit); err != nil {
			return "", err
		}
	}
	pointer, err := rc.pointer(meta.commit, f.Path)
	if err != nil {
		return "", err
	}
	if present(pointer) {
		prog.skip(f.Size)
		return pointer, nil
	}
	blob := rc.blob(meta.etag)
	for _, d := range []string{filepath.Dir(blob), rc.locks} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", diskError(err, d)
		}
	}
	unlock, err := lockFile(ctx, rc.lock(meta.etag))
	if err != nil {
		return "", err
	}
	defer unlock()
	if present(blob) {
		prog.skip(f.Size)
	} else {
		tr := &transfer{
			t:          target{repo: repo, revision: revision, path: f.Path},
			url:        meta.location,
			size:       meta.size,
			etag:       meta.etag,
			sha256:     f.SHA256,
			incomplete: blob + ".incomplete",
			dest:       blob,
			bar:        prog.file(f.Path, meta.size),
		}
		if err := c.fetch(ctx, tr); err != nil {
			return "", err
		}
	}
	if !present(pointer) {
		if err := c.linkPointer(blob, pointer); err != nil {
			return "", err
		}
	}
	return pointer, nil
}
