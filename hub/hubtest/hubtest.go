// Package hubtest runs an in-process fake Hugging Face Hub for tests. It
// speaks the protocol package hub uses (FORMATS.md §9): the revision and
// paginated tree APIs, the resolve endpoint with X-Repo-Commit, ETag,
// X-Linked-Etag/Size and Range support, 302 redirects of LFS files to a
// second "CDN" server on another host, relative redirects for renamed
// repositories, and the Hub's error answers (401/403/404 with
// X-Error-Code). Faults can be injected per file: dropped connections,
// corrupted bytes, error statuses with Retry-After.
//
// The CDN fails the test if it ever receives an Authorization header.
package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// File is one file of a commit.
type File struct {
	Path string
	Data []byte
	// LFS stores the file with git-lfs: the resolve endpoint redirects to
	// the CDN and announces its sha256 in X-Linked-Etag.
	LFS bool
	// WeakETag sends the (non-LFS) ETag in its weak form, W/"...".
	WeakETag bool
}

// GitOID is the git blob id of data, the ETag the Hub gives non-LFS files.
func GitOID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256 is the hex sha256 of data, the ETag the Hub gives LFS files.
func SHA256(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// Fault is an injected failure on requests for one file.
type Fault struct {
	Path   string // file path inside the repository it applies to
	Method string // "GET", "HEAD", or "" for both
	CDN    bool   // apply on the CDN rather than on the Hub's resolve endpoint
	Times  int    // how many requests it affects (<= 0 means 1)

	Status     int    // answer with this status (and no body)...
	RetryAfter string // ...and this Retry-After header
	DropAfter  int64  // or: send this many body bytes, then cut the connection (>0)...
	Hang       bool   // ...or, with DropAfter, keep it open and silent until the client gives up
	Delay      bool   // or: send no answer at all until the client gives up
	Corrupt    bool   // or: flip one byte in the middle of the body
}

// Request is a request either server received.
type Request struct {
	Server string // "hub" or "cdn"
	Method string
	Path   string // unescaped URL path
	Query  string
	Range  string
	Auth   bool // an Authorization header was present
}

type commit struct {
	id    string
	files map[string]File
}

type repo struct {
	commits   map[string]*commit
	refs      map[string]string
	private   bool
	gated     bool
	granted   bool
	forbidden bool
}

// Server is a fake Hub plus its CDN.
type Server struct {
	Hub *httptest.Server
	CDN *httptest.Server
	// Token is the only token the fake accepts; it grants access to
	// private repositories and to gated ones once Grant is called.
	Token string
	// PageSize is the number of tree entries per page (default 2, so that
	// pagination is always exercised).
	PageSize int

	t       testing.TB
	mu      sync.Mutex
	repos   map[string]*repo
	renamed map[string]string
	blobs   map[string]File // by sha256, for the CDN
	faults  []*Fault
	log     []Request
	serial  int
}

// New starts a fake Hub and CDN, stopped when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		Token:    "hf_testtoken_0123456789",
		PageSize: 2,
		t:        t,
		repos:    map[string]*repo{},
		renamed:  map[string]string{},
		blobs:    map[string]File{},
	}
	s.Hub = httptest.NewServer(http.HandlerFunc(s.serveHub))
	s.CDN = httptest.NewServer(http.HandlerFunc(s.serveCDN))
	t.Cleanup(s.Hub.Close)
	t.Cleanup(s.CDN.Close)
	return s
}

// URL is the Hub's endpoint (what HF_ENDPOINT would be).
func (s *Server) URL() string { return s.Hub.URL }

// Commit records a new commit of repository id holding files and points
// ref (a branch, a tag or refs/pr/N) at it. It returns the commit id.
func (s *Server) Commit(id, ref string, files ...File) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.repos[id]
	if r == nil {
		r = &repo{commits: map[string]*commit{}, refs: map[string]string{}}
		s.repos[id] = r
	}
	s.serial++
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d", id, ref, s.serial)
	c := &commit{files: map[string]File{}}
	for _, f := range files {
		fmt.Fprintf(h, "\x00%s\x00%x", f.Path, f.Data)
		c.files[f.Path] = f
		if f.LFS {
			s.blobs[SHA256(f.Data)] = f
		}
	}
	c.id = hex.EncodeToString(h.Sum(nil))
	r.commits[c.id] = c
	r.refs[ref] = c.id
	return c.id
}

// Tag points another ref at an existing commit.
func (s *Server) Tag(id, ref, commitID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[id].refs[ref] = commitID
}

// SetPrivate makes a repository visible only with the Server's token.
func (s *Server) SetPrivate(id string) { s.with(id, func(r *repo) { r.private = true }) }

// SetGated makes a repository gated; granted says whether the token's
// account has been given access.
func (s *Server) SetGated(id string, granted bool) {
	s.with(id, func(r *repo) { r.gated, r.granted = true, granted })
}

// SetForbidden makes the token lack permission on the repository (403).
func (s *Server) SetForbidden(id string) { s.with(id, func(r *repo) { r.forbidden = true }) }

// Rename moves a repository; the old name answers with relative redirects.
func (s *Server) Rename(oldID, newID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[newID] = s.repos[oldID]
	delete(s.repos, oldID)
	s.renamed[oldID] = newID
}

func (s *Server) with(id string, f func(*repo)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s.repos[id])
}

// AddFault injects a failure.
func (s *Server) AddFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes all pending faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
}

func (s *Server) record(server string, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, Request{
		Server: server, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Range: r.Header.Get("Range"), Auth: r.Header.Get("Authorization") != "",
	})
}

func (s *Server) takeFault(path, method string, cdn bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Path == path && f.CDN == cdn && (f.Method == "" || f.Method == method) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			c := *f
			return &c
		}
	}
	return nil
}

// access applies the Hub's authentication rules and writes the error
// answer when access is denied.
func (s *Server) access(w http.ResponseWriter, r *http.Request, id string) (*repo, bool) {
	auth := r.Header.Get("Authorization")
	tokenOK := auth == "Bearer "+s.Token
	if auth != "" && !tokenOK {
		hubError(w, http.StatusUnauthorized, "", "Invalid credentials in Authorization header")
		return nil, false
	}
	s.mu.Lock()
	rp := s.repos[id]
	s.mu.Unlock()
	switch {
	case rp == nil || (rp.private && !tokenOK):
		status := http.StatusUnauthorized
		if tokenOK {
			status = http.StatusNotFound
		}
		hubError(w, status, "RepoNotFound", "Repository not found")
		return nil, false
	case rp.gated && !tokenOK:
		hubError(w, http.StatusUnauthorized, "GatedRepo",
			"Access to model "+id+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		return nil, false
	case rp.gated && !rp.granted:
		hubError(w, http.StatusForbidden, "GatedRepo",
			"Access to model "+id+" is restricted and you are not in the authorized list. Visit https://huggingface.co/"+id+" to ask for access.")
		return nil, false
	case rp.forbidden:
		hubError(w, http.StatusForbidden, "", "This token does not have read access to "+id)
		return nil, false
	}
	return rp, true
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (s *Server) resolveRev(rp *repo, rev string) *commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := rp.refs[rev]; ok {
		return rp.commits[id]
	}
	return rp.commits[rev]
}

// splitRepo splits an escaped path "org/name/<kw>/rest" at the keyword,
// returning the unescaped repository id and the escaped rest.
func splitRepo(escaped, kw string) (id, rest string, ok bool) {
	i := strings.Index(escaped, "/"+kw+"/")
	if i <= 0 {
		return "", "", false
	}
	id, err := url.PathUnescape(escaped[:i])
	if err != nil {
		return "", "", false
	}
	return id, escaped[i+len(kw)+2:], true
}

func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	s.record("hub", r)
	p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if strings.HasPrefix(p, "api/models/") {
		s.serveAPI(w, r, strings.TrimPrefix(p, "api/models/"))
		return
	}
	id, rest, ok := splitRepo(p, "resolve")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	newID, moved := s.renamed[id]
	s.mu.Unlock()
	if moved {
		w.Header().Set("Location", "/"+newID+"/resolve/"+rest)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	rp, ok := s.access(w, r, id)
	if !ok {
		return
	}
	revEsc, fileEsc, _ := strings.Cut(rest, "/")
	rev, err1 := url.PathUnescape(revEsc)
	file, err2 := url.PathUnescape(fileEsc)
	if err1 != nil || err2 != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	c := s.resolveRev(rp, rev)
	if c == nil {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	w.Header().Set("X-Repo-Commit", c.id)
	f, ok := c.files[file]
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	fault := s.takeFault(file, r.Method, false)
	if fault != nil && fault.Delay {
		<-r.Context().Done()
		return
	}
	if fault != nil && fault.Status != 0 {
		failWith(w, fault)
		return
	}
	if f.LFS {
		sum := SHA256(f.Data)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(f.Data)))
		w.Header().Set("ETag", `"lfs-pointer-`+GitOID([]byte(sum))+`"`)
		w.Header().Set("Location", s.CDN.URL+"/lfs/"+sum+"?X-Amz-Signature=cdnsig&response-content-disposition=attachment")
		w.WriteHeader(http.StatusFound)
		return
	}
	s.serveContent(w, r, f.Data, fault, s.etagFor(f))
}

func (s *Server) etagFor(f File) string {
	if f.LFS {
		return `"` + SHA256(f.Data) + `"`
	}
	if f.WeakETag {
		return `W/"` + GitOID(f.Data) + `"`
	}
	return `"` + GitOID(f.Data) + `"`
}

func failWith(w http.ResponseWriter, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(f.Status)
}

// serveContent answers HEAD and GET (with Range) for data, applying a
// content fault if one is given.
func (s *Server) serveContent(w http.ResponseWriter, r *http.Request, data []byte, fault *Fault, etag string) {
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Accept-Ranges", "bytes")
	start := int64(0)
	if rg := r.Header.Get("Range"); rg != "" {
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"), 10, 64)
		if err != nil || !strings.HasSuffix(rg, "-") {
			http.Error(w, "only bytes=N- ranges", http.StatusBadRequest)
			return
		}
		if n >= int64(len(data)) {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start = n
	}
	body := append([]byte(nil), data[start:]...)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := http.StatusOK
	if start > 0 {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(data)-1, len(data)))
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	if fault != nil && fault.Corrupt && len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	w.WriteHeader(status)
	if fault != nil && fault.DropAfter > 0 && fault.DropAfter < int64(len(body)) {
		w.Write(body[:fault.DropAfter])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		if fault.Hang {
			<-r.Context().Done()
		}
		panic(http.ErrAbortHandler) // cuts the connection mid-body
	}
	w.Write(body)
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	s.record("cdn", r)
	if r.Header.Get("Authorization") != "" {
		s.t.Errorf("hubtest: the CDN received an Authorization header for %s %s", r.Method, r.URL.Path)
	}
	if r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	sum := strings.TrimPrefix(r.URL.Path, "/lfs/")
	s.mu.Lock()
	f, ok := s.blobs[sum]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	fault := s.takeFault(f.Path, r.Method, true)
	if fault != nil && fault.Delay {
		<-r.Context().Done()
		return
	}
	if fault != nil && fault.Status != 0 {
		failWith(w, fault)
		return
	}
	s.serveContent(w, r, f.Data, fault, `"`+sum+`"`)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, p string) {
	kw := "revision"
	id, rest, ok := splitRepo(p, kw)
	if !ok {
		kw = "tree"
		id, rest, ok = splitRepo(p, kw)
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	newID, moved := s.renamed[id]
	s.mu.Unlock()
	if moved {
		loc := "/api/models/" + newID + "/" + kw + "/" + rest
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	rp, ok := s.access(w, r, id)
	if !ok {
		return
	}
	rev, err := url.PathUnescape(rest)
	if err != nil {
		http.Error(w, "bad revision", http.StatusBadRequest)
		return
	}
	c := s.resolveRev(rp, rev)
	if c == nil {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	paths := make([]string, 0, len(c.files))
	for p := range c.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	w.Header().Set("Content-Type", "application/json")
	if kw == "revision" {
		sib := make([]map[string]string, len(paths))
		for i, p := range paths {
			sib[i] = map[string]string{"rfilename": p}
		}
		json.NewEncoder(w).Encode(map[string]any{"id": id, "sha": c.id, "siblings": sib, "private": rp.private})
		return
	}
	entries := treeEntries(c, paths)
	from, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	to := min(from+max(s.PageSize, 1), len(entries))
	if from > len(entries) {
		from = len(entries)
	}
	if to < len(entries) {
		next := fmt.Sprintf("%s/api/models/%s/tree/%s?recursive=true&cursor=%d", s.Hub.URL, id, rest, to)
		w.Header().Set("Link", "<"+next+`>; rel="next"`)
	}
	json.NewEncoder(w).Encode(entries[from:to])
}

// treeEntries lists directories and files as the tree API does.
func treeEntries(c *commit, paths []string) []map[string]any {
	var out []map[string]any
	dirs := map[string]bool{}
	for _, p := range paths {
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			if !dirs[d] {
				dirs[d] = true
				out = append(out, map[string]any{"type": "directory", "oid": GitOID([]byte(d)), "size": 0, "path": d})
			}
		}
		f := c.files[p]
		e := map[string]any{"type": "file", "path": p}
		if f.LFS {
			ptr := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", SHA256(f.Data), len(f.Data))
			e["oid"] = GitOID([]byte(ptr))
			e["size"] = len(f.Data)
			e["lfs"] = map[string]any{"oid": SHA256(f.Data), "size": len(f.Data), "pointerSize": len(ptr)}
		} else {
			e["oid"] = GitOID(f.Data)
			e["size"] = len(f.Data)
		}
		out = append(out, e)
	}
	return out
}
