package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ModelOptions selects what FetchModel takes from a repository.
type ModelOptions struct {
	// Revision is a branch, tag, commit or refs/pr/N; empty means "main".
	Revision string
	// Pattern picks the GGUF file in a repository that has several (a glob
	// under MatchGlob's rules, e.g. "*i2_s*"). Empty means: the only .gguf,
	// or among several the one whose name says I2_S.
	Pattern string
}

// Model is a model fetched from the Hub, ready for the runtime (GGUF) or
// the converter (checkpoint).
type Model struct {
	Repo   string
	Commit string
	// Dir is the snapshot directory. For a checkpoint it holds config.json,
	// the *.safetensors (and their index) and the tokenizer files.
	Dir string
	// GGUF is the .gguf to load when the repository ships one (for a model
	// split in several files, the first part; the others are beside it).
	// Empty for a checkpoint repository.
	GGUF string

	cache repoCache
}

// IsGGUF reports whether the repository shipped a ready GGUF.
func (m *Model) IsGGUF() bool { return m.GGUF != "" }

// checkpointFiles are what a converter needs besides the weights.
var checkpointFiles = map[string]bool{
	"config.json":             true,
	"generation_config.json":  true,
	"tokenizer.json":          true,
	"tokenizer.model":         true,
	"tokenizer_config.json":   true,
	"special_tokens_map.json": true,
	"added_tokens.json":       true,
}

var splitRe = regexp.MustCompile(`(?i)^(.*)-(\d{5})-of-(\d{5})\.gguf$`)

// FetchModel downloads what `bitnet run --hf REPO` needs and says what it
// got. A GGUF repository (e.g. microsoft/BitNet-b1.58-2B-4T-gguf) yields
// the one .gguf chosen by opts.Pattern (or the I2_S one among several); a
// checkpoint repository (e.g. microsoft/BitNet-b1.58-2B-4T) yields its
// config.json, *.safetensors and tokenizer files, to be converted once with
// Model.Converted. Top-level files only; other files are not fetched.
// Offline, or when the Hub cannot be reached, the cached snapshot serves.
func (c *Client) FetchModel(ctx context.Context, repo string, opts ModelOptions) (*Model, error) {
	rev := opts.Revision
	if rev == "" {
		rev = "main"
	}
	if err := ValidateRepoID(repo); err != nil {
		return nil, err
	}
	if err := validateRevision(rev); err != nil {
		return nil, err
	}
	commit, cached, err := c.resolve(ctx, repo, rev)
	if err != nil {
		return nil, err
	}
	rc := c.repoCache(repo)
	var files []FileInfo
	if cached {
		files, err = c.cachedFiles(repo, commit)
	} else {
		files, err = c.ListFiles(ctx, repo, commit)
	}
	if err != nil {
		return nil, err
	}
	m := &Model{Repo: repo, Commit: commit, Dir: rc.snapshot(commit), cache: rc}
	want, gguf, err := pickModelFiles(repo, files, opts.Pattern)
	if err != nil {
		if cached {
			return nil, fmt.Errorf("%w (looked only in the cache: %v)", err, c.cacheMiss(repo, rev, "", nil))
		}
		return nil, err
	}
	if !cached {
		if err := rc.writeRef(rev, commit); err != nil {
			return nil, err
		}
		if err := c.fetchAll(ctx, repo, commit, want, ""); err != nil {
			return nil, err
		}
	}
	if gguf != "" {
		m.GGUF, err = rc.pointer(commit, gguf)
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// pickModelFiles decides between a GGUF and a checkpoint repository and
// returns the files to fetch (and the GGUF to load, if any).
func pickModelFiles(repo string, files []FileInfo, pattern string) (want []FileInfo, gguf string, err error) {
	var ggufs []FileInfo
	hasConfig, hasWeights := false, false
	for _, f := range files {
		if strings.Contains(f.Path, "/") {
			continue
		}
		low := strings.ToLower(f.Path)
		switch {
		case strings.HasSuffix(low, ".gguf"):
			if pattern == "" || MatchGlob(pattern, f.Path) {
				ggufs = append(ggufs, f)
			}
		case f.Path == "config.json":
			hasConfig = true
		case strings.HasSuffix(low, ".safetensors"):
			hasWeights = true
		}
	}
	if len(ggufs) > 0 {
		return pickGGUF(repo, ggufs)
	}
	if pattern != "" {
		return nil, "", fmt.Errorf("hub: no .gguf file in %q matches %q (files: %s)", repo, pattern, ggufNames(files))
	}
	if !hasConfig || !hasWeights {
		return nil, "", fmt.Errorf("hub: %q is neither a GGUF repository (no .gguf file) nor a checkpoint (config.json and *.safetensors)", repo)
	}
	for _, f := range files {
		if strings.Contains(f.Path, "/") {
			continue
		}
		if checkpointFiles[f.Path] || strings.HasSuffix(f.Path, ".safetensors") || strings.HasSuffix(f.Path, ".safetensors.index.json") {
			want = append(want, f)
		}
	}
	return want, "", nil
}

// pickGGUF narrows candidates to one model: the only one, else the I2_S
// one; a model split in parts counts as one and all parts are fetched.
func pickGGUF(repo string, cands []FileInfo) ([]FileInfo, string, error) {
	group := func(files []FileInfo) map[string][]FileInfo {
		g := map[string][]FileInfo{}
		for _, f := range files {
			key := f.Path
			if m := splitRe.FindStringSubmatch(f.Path); m != nil {
				key = m[1]
			}
			g[key] = append(g[key], f)
		}
		return g
	}
	g := group(cands)
	if len(g) > 1 {
		var i2s []FileInfo
		for _, f := range cands {
			if strings.Contains(strings.ToLower(f.Path), "i2_s") {
				i2s = append(i2s, f)
			}
		}
		if gi := group(i2s); len(gi) == 1 {
			g = gi
		} else {
			return nil, "", fmt.Errorf("hub: %q has several GGUF models (%s); choose one with a file pattern", repo, ggufNames(cands))
		}
	}
	var parts []FileInfo
	for _, p := range g { // exactly one group is left
		parts = p
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Path < parts[j].Path })
	return parts, parts[0].Path, nil
}

func ggufNames(files []FileInfo) string {
	var names []string
	for _, f := range files {
		if strings.HasSuffix(strings.ToLower(f.Path), ".gguf") {
			names = append(names, f.Path)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ConvertedPath is where the conversion of this checkpoint called name
// (e.g. "ggml-model-i2_s.gguf") is kept:
// {cache}/models--org--name/converted/{commit}/{name}, beside the
// snapshots, so the next run of the same commit finds it and deleting the
// repository's cache folder removes it too.
func (m *Model) ConvertedPath(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", fmt.Errorf("hub: invalid name for a converted file %q: %w", name, ErrUnsafePath)
	}
	return filepath.Join(m.cache.dir, "converted", m.Commit, name), nil
}

// Converted returns the conversion called name of this checkpoint,
// calling build to make it the first time only. build must write the
// complete file at the temporary path it is given (in the destination's
// directory); it is renamed into place only if build returns nil, and a
// lock makes concurrent runs convert once.
func (m *Model) Converted(ctx context.Context, name string, build func(ctx context.Context, tmpPath string) error) (string, error) {
	dst, err := m.ConvertedPath(name)
	if err != nil {
		return "", err
	}
	if present(dst) {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", diskError(err, dst)
	}
	if err := os.MkdirAll(m.cache.locks, 0o755); err != nil {
		return "", diskError(err, m.cache.locks)
	}
	unlock, err := lockFile(ctx, filepath.Join(m.cache.locks, "converted--"+m.Commit+"--"+name+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if present(dst) {
		return dst, nil
	}
	tmp := dst + ".incomplete"
	os.Remove(tmp)
	if err := build(ctx, tmp); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if !present(tmp) {
		return "", fmt.Errorf("hub: conversion to %s produced no file", dst)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", err
	}
	syncDir(filepath.Dir(dst))
	return dst, nil
}
