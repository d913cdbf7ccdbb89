package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// FileInfo describes one file of a repository at a commit, as the tree API
// lists it.
type FileInfo struct {
	Path   string // slash-separated path inside the repository
	Size   int64  // size of the content (for LFS files, of the real file, not the pointer)
	OID    string // git blob id
	SHA256 string // sha256 of the content for LFS files, empty otherwise
}

// LFS reports whether the file is stored with git-lfs (large files, served
// from a CDN, cached under their sha256).
func (f FileInfo) LFS() bool { return f.SHA256 != "" }

// Bounds on what the Hub's JSON answers may make us read and keep. A real
// tree page (1000 entries) is a few hundred KB, and the largest model
// repositories list a few tens of thousands of files.
const (
	maxPages     = 10000
	maxPageBytes = 16 << 20 // one JSON answer
	maxEntries   = 1 << 20
	maxPathBytes = 4096 // as validateRepoPath allows
)

// maxListingBytes bounds all the pages of one listing together. A variable
// so that tests need not send 64 MB.
var maxListingBytes int64 = 64 << 20

// repoInfo is the part of GET /api/models/{repo}/revision/{rev} we use.
type repoInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		RFilename string `json:"rfilename"`
	} `json:"siblings"`
}

// ResolveRevision returns the commit a branch, tag, commit or refs/pr/N
// points to, asking the Hub's revision API. Offline, it reads the ref the
// cache recorded (a commit is returned as is).
func (c *Client) ResolveRevision(ctx context.Context, repo, revision string) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if err := ValidateRepoID(repo); err != nil {
		return "", err
	}
	if err := validateRevision(revision); err != nil {
		return "", err
	}
	if c.Offline {
		return c.cachedCommit(repo, revision)
	}
	info, err := c.repoInfo(ctx, repo, revision)
	if err != nil {
		return "", err
	}
	return info.SHA, nil
}

func (c *Client) repoInfo(ctx context.Context, repo, revision string) (*repoInfo, error) {
	u := c.endpoint() + "/api/models/" + repo + "/revision/" + url.PathEscape(revision)
	var info repoInfo
	if _, err := c.getJSON(ctx, u, target{repo: repo, revision: revision}, &info); err != nil {
		return nil, err
	}
	if err := validateCommit(info.SHA); err != nil {
		return nil, err
	}
	return &info, nil
}

// treeEntry is one element of GET /api/models/{repo}/tree/{rev}.
type treeEntry struct {
	Type string `json:"type"`
	Path string `json:"path"`
	Size int64  `json:"size"`
	OID  string `json:"oid"`
	LFS  *struct {
		OID  string `json:"oid"`
		Size int64  `json:"size"`
	} `json:"lfs"`
}

// ListFiles lists every file of the repository at revision, recursively,
// with sizes, git ids and (for LFS files) sha256, following the tree API's
// pagination. Paths are returned as the Hub lists them; Download and
// DownloadFile refuse (ErrUnsafePath) any that would leave their directory.
// Offline, it lists what the cached snapshot holds (paths and sizes only).
func (c *Client) ListFiles(ctx context.Context, repo, revision string) ([]FileInfo, error) {
	if revision == "" {
		revision = "main"
	}
	if err := ValidateRepoID(repo); err != nil {
		return nil, err
	}
	if err := validateRevision(revision); err != nil {
		return nil, err
	}
	if c.Offline {
		commit, err := c.cachedCommit(repo, revision)
		if err != nil {
			return nil, err
		}
		return c.cachedFiles(repo, commit)
	}
	next := c.endpoint() + "/api/models/" + repo + "/tree/" + url.PathEscape(revision) + "?recursive=true"
	var files []FileInfo
	budget := &listingBudget{left: maxListingBytes}
	for page := 0; next != ""; page++ {
		if page >= maxPages {
			return nil, fmt.Errorf("hub: listing %s: more than %d pages", repo, maxPages)
		}
		resp, err := c.getStream(ctx, next, target{repo: repo, revision: revision}, func(r io.Reader) error {
			return decodeTree(budget.reader(r), func(e treeEntry) error {
				if e.Type != "file" {
					return nil
				}
				fi, err := e.fileInfo()
				if err != nil {
					return err
				}
				if len(files) >= maxEntries {
					return fmt.Errorf("more than %d files", maxEntries)
				}
				files = append(files, fi)
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		next, err = nextLink(resp.Header.Get("Link"), resp.Request.URL)
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

var linkRe = regexp.MustCompile(`<([^>]*)>\s*;[^,]*rel="?next"?`)

// nextLink returns the rel="next" URL of a Link header, resolved against
// the page it came with.
func nextLink(h string, base *url.URL) (string, error) {
	m := linkRe.FindStringSubmatch(h)
	if m == nil {
		return "", nil
	}
	u, err := base.Parse(m[1])
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which is quoted clipped
		}
		return "", fmt.Errorf("hub: bad pagination link %q: %v", clip(m[1]), err)
	}
	return u.String(), nil
}

// getJSON GETs an API URL and decodes its JSON body (at most maxPageBytes)
// into v. The response is returned (body closed) for its headers.
func (c *Client) getJSON(ctx context.Context, u string, t target, v any) (*http.Response, error) {
	return c.getStream(ctx, u, t, func(r io.Reader) error {
		return json.NewDecoder(r).Decode(v)
	})
}

// getStream GETs an API URL and hands its body, cut at maxPageBytes, to
// decode. The response is returned (body closed) for its headers.
func (c *Client) getStream(ctx context.Context, u string, t target, decode func(io.Reader) error) (*http.Response, error) {
	hdr := http.Header{"Accept": {"application/json"}}
	resp, err := c.do(ctx, http.MethodGet, u, hdr, followAll)
	if err != nil {
		return nil, c.netErr(ctx, err, t)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusError(resp, t, c.Token != "")
	}
	body := &capReader{r: resp.Body, left: maxPageBytes, err: fmt.Errorf("the answer is larger than the %d bytes allowed for one page", maxPageBytes)}
	if err := decode(body); err != nil {
		// Decoding errors quote the offending JSON value, which a hostile
		// server can make any length.
		return nil, fmt.Errorf("hub: reading %s: %s", safeURL(u), clipTo(err.Error(), 1000))
	}
	return resp, nil
}

// netErr wraps a transport failure with what was being fetched, unless
// the caller's own context ended (then that is the error).
func (c *Client) netErr(ctx context.Context, err error, t target) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if isPermanent(err) {
		return err // the server answered; only not in a way we can follow
	}
	var ne *networkError
	if !errors.As(err, &ne) {
		err = &networkError{err}
	}
	what := t.repo
	if t.path != "" {
		what += "/" + t.path
	}
	return fmt.Errorf("hub: cannot reach %s for %s: %w", c.displayEndpoint(), what, err)
}

// fileMeta is what HEAD on the resolve endpoint tells about a file.
type fileMeta struct {
	commit   string
	etag     string
	size     int64
	location string // where to GET the bytes: the resolve URL or a CDN URL
}

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{path}, the revision
// escaped whole (refs/pr/1 -> refs%2Fpr%2F1) and the path per element.
func (c *Client) resolveURL(repo, revision, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return c.endpoint() + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(parts, "/")
}

// headFile asks the resolve endpoint for a file's commit, etag, size and
// location without following the redirect to the CDN. On an error answer
// the returned fileMeta still carries the commit the server named, if any
// (a missing file is recorded under .no_exist/{commit}).
func (c *Client) headFile(ctx context.Context, repo, revision, path string) (fileMeta, error) {
	t := target{repo: repo, revision: revision, path: path}
	u := c.resolveURL(repo, revision, path)
	resp, err := c.do(ctx, http.MethodHead, u, metaHeaders(), followRelative)
	if err != nil {
		return fileMeta{}, c.netErr(ctx, err, t)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 || (resp.StatusCode >= 300 && resp.Header.Get("Location") == "") {
		return fileMeta{commit: resp.Header.Get("X-Repo-Commit")}, c.statusError(resp, t, c.Token != "")
	}
	m := fileMeta{
		commit:   resp.Header.Get("X-Repo-Commit"),
		etag:     normalizeEtag(firstNonEmpty(resp.Header.Get("X-Linked-Etag"), resp.Header.Get("ETag"))),
		location: resp.Request.URL.String(),
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && loc != "" {
		l, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return fileMeta{}, fmt.Errorf("hub: bad Location for %s: %v", path, err)
		}
		m.location = l.String()
	}
	size := firstNonEmpty(resp.Header.Get("X-Linked-Size"), resp.Header.Get("Content-Length"))
	if m.commit == "" {
		return fileMeta{}, fmt.Errorf("hub: %s does not look like a Hugging Face Hub (no X-Repo-Commit header for %s); check HF_ENDPOINT and proxy settings", c.displayEndpoint(), path)
	}
	if err := validateCommit(m.commit); err != nil {
		return fileMeta{}, err
	}
	if m.etag == "" {
		return fileMeta{}, fmt.Errorf("hub: no ETag for %s in %s: cannot cache it reliably", path, repo)
	}
	if err := validateEtag(m.etag); err != nil {
		return fileMeta{}, err
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 {
		return fileMeta{}, fmt.Errorf("hub: no usable size for %s in %s (X-Linked-Size/Content-Length %q)", path, repo, size)
	}
	m.size = n
	return m, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
