package hub

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names that reach the filesystem come from the user (repository,
// revision) or from the server (file paths, etags, commits). Each is checked
// here before it is joined to a directory, so neither can write outside
// the cache or the local directory.

var (
	repoPartRe = regexp.MustCompile(`^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)
	commitRe   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256Re   = regexp.MustCompile(`^[0-9a-f]{64}$`)
	etagRe     = regexp.MustCompile(`^[A-Za-z0-9_+=-][A-Za-z0-9_.+=-]{0,254}$`)
)

// ValidateRepoID checks a repository id the way the Hub defines it:
// "name" or "namespace/name", letters, digits, '-', '_', '.', no "--" or
// "..", at most 96 characters. Anything else (absolute paths, "../",
// backslashes) is refused with ErrUnsafePath.
func ValidateRepoID(repo string) error {
	bad := func(why string) error {
		return fmt.Errorf("hub: invalid repository id %q (%s; expected \"org/name\"): %w", clip(repo), why, ErrUnsafePath)
	}
	if repo == "" {
		return bad("empty")
	}
	if len(repo) > 96 {
		return bad("longer than 96 characters")
	}
	if strings.Contains(repo, "--") || strings.Contains(repo, "..") {
		return bad(`contains "--" or ".."`)
	}
	if strings.HasSuffix(repo, ".git") {
		return bad(`ends with ".git"`)
	}
	parts := strings.Split(repo, "/")
	if len(parts) > 2 {
		return bad("more than one '/'")
	}
	for _, p := range parts {
		if !repoPartRe.MatchString(p) {
			return bad("only letters, digits, '-', '_' and '.' are allowed in each part")
		}
	}
	return nil
}

// validateRevision accepts branch and tag names, commits and refs/pr/N,
// and refuses what would climb out of refs/.
func validateRevision(rev string) error {
	if err := cleanRelPath(rev, 255); err != nil {
		return fmt.Errorf("hub: invalid revision %q (%v): %w", clip(rev), err, ErrUnsafePath)
	}
	return nil
}

// validateRepoPath checks a file path inside a repository: relative,
// slash-separated, no "." or ".." elements, no backslashes or drive letters.
func validateRepoPath(p string) error {
	if err := cleanRelPath(p, 4096); err != nil {
		return fmt.Errorf("hub: refusing file path %q (%v): %w", clip(p), err, ErrUnsafePath)
	}
	return nil
}

func cleanRelPath(p string, maxLen int) error {
	switch {
	case p == "":
		return fmt.Errorf("empty")
	case len(p) > maxLen:
		return fmt.Errorf("%d bytes, more than %d", len(p), maxLen)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute")
	case strings.Contains(p, `\`):
		return fmt.Errorf("contains a backslash")
	case len(p) >= 2 && p[1] == ':' && unicode.IsLetter(rune(p[0])):
		return fmt.Errorf("starts with a drive letter")
	}
	for _, r := range p {
		if unicode.IsControl(r) {
			return fmt.Errorf("contains a control character")
		}
	}
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "":
			return fmt.Errorf("empty path element")
		case ".", "..":
			return fmt.Errorf("contains %q", part)
		}
	}
	return nil
}

// validateEtag checks a normalised etag before it names a blob file.
func validateEtag(etag string) error {
	if !etagRe.MatchString(etag) {
		return fmt.Errorf("hub: server sent an etag that cannot name a cache file (%q): %w", clip(etag), ErrUnsafePath)
	}
	return nil
}

func validateCommit(commit string) error {
	if !commitRe.MatchString(commit) {
		return fmt.Errorf("hub: server sent an invalid commit id %q", clip(commit))
	}
	return nil
}

// normalizeEtag strips the weak marker and the quotes of an ETag header,
// as huggingface_hub does, to get the bare git sha1 or sha256.
func normalizeEtag(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	return strings.Trim(v, `"`)
}

// maxQuoted is how much of a value from outside an error message quotes:
// enough to recognise it, never enough to flood a terminal or a log with a
// hostile server's megabytes.
const maxQuoted = 200

// clip shortens s for an error message, saying how long it really was.
func clip(s string) string { return clipTo(s, maxQuoted) }

// clipTo shortens s to about n bytes (at a rune boundary) for a message.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", s[:cut], len(s))
}
