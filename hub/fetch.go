package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// stallTimeout aborts (and then resumes) a transfer that receives nothing
// for this long, rather than hanging on a dead connection forever. A
// variable so that tests can shorten it.
var stallTimeout = 60 * time.Second

// transfer is one file to fetch into dest through a resumable partial file.
type transfer struct {
	t          target
	url        string // the resolve URL or the CDN location HEAD pointed to
	size       int64
	etag       string // 64 hex: sha256 of the content; 40 hex: its git blob id
	sha256     string // from the tree listing, used when the etag is not a sha256
	incomplete string // blobs/{etag}.incomplete or .cache/huggingface/download/{path}.{etag}.incomplete
	dest       string
	bar        *fileBar
}

// verifier hashes a file as it arrives and checks it against what the Hub
// announced: sha256 for LFS files, the git blob sha1 for the others.
type verifier struct {
	algo string // "sha256", "git-sha1" or "" (size only)
	want string
	size int64
	h    hash.Hash
}

func newVerifier(tr *transfer) *verifier {
	v := &verifier{size: tr.size}
	switch {
	case sha256Re.MatchString(tr.etag):
		v.algo, v.want = "sha256", tr.etag
	case sha256Re.MatchString(tr.sha256):
		v.algo, v.want = "sha256", tr.sha256
	case commitRe.MatchString(tr.etag):
		v.algo, v.want = "git-sha1", tr.etag
	}
	v.reset()
	return v
}

func (v *verifier) reset() {
	switch v.algo {
	case "sha256":
		v.h = sha256.New()
	case "git-sha1":
		v.h = sha1.New()
		fmt.Fprintf(v.h, "blob %d\x00", v.size)
	default:
		v.h = nil
	}
}

func (v *verifier) Write(p []byte) (int, error) {
	if v.h != nil {
		v.h.Write(p)
	}
	return len(p), nil
}

func (v *verifier) check(tr *transfer, got int64) error {
	if got != tr.size {
		return &checksumError{t: tr.t, what: "size", want: strconv.FormatInt(tr.size, 10) + " bytes", got: strconv.FormatInt(got, 10) + " bytes"}
	}
	if v.h == nil {
		return nil
	}
	if sum := hex.EncodeToString(v.h.Sum(nil)); sum != v.want {
		return &checksumError{t: tr.t, what: v.algo, want: v.want, got: sum}
	}
	return nil
}

type checksumError struct {
	t               target
	what, want, got string
}

func (e *checksumError) Error() string {
	return fmt.Sprintf("hub: download of %q from %q is corrupt: %s mismatch: expected %s, got %s; the corrupted download was removed",
		e.t.path, e.t.repo, e.what, e.want, e.got)
}

func (e *checksumError) Unwrap() error { return ErrChecksum }

// fetch downloads tr into tr.dest. A partial file left by an earlier run or
// attempt is resumed with a Range request; the whole content is verified
// before the atomic rename, and a corrupt download is removed and fetched
// once more from scratch.
func (c *Client) fetch(ctx context.Context, tr *transfer) error {
	err := c.fetchOnce(ctx, tr)
	if errors.Is(err, ErrChecksum) {
		slog.Warn("hub: downloaded file failed verification, downloading it again", "file", tr.t.path, "err", err)
		err = c.fetchOnce(ctx, tr)
	}
	return err
}

func (c *Client) fetchOnce(ctx context.Context, tr *transfer) error {
	if err := os.MkdirAll(filepath.Dir(tr.incomplete), 0o755); err != nil {
		return diskError(err, tr.incomplete)
	}
	f, err := os.OpenFile(tr.incomplete, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return diskError(err, tr.incomplete)
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	have := st.Size()
	if have > tr.size {
		if err := f.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	v := newVerifier(tr)
	if have > 0 {
		// The bytes kept from before count towards the hash too.
		if _, err := io.Copy(v, io.NewSectionReader(f, 0, have)); err != nil {
			return fmt.Errorf("hub: reading partial download %s: %v", tr.incomplete, err)
		}
		slog.Debug("hub: resuming download", "file", tr.t.path, "from", have, "of", tr.size)
	}
	tr.bar.set(have)

	retries, wait := c.maxRetries(), c.backoff()
	for have < tr.size {
		before := have
		have, err = c.getInto(ctx, tr, f, v, have)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he *Error
		if errors.As(err, &he) || errors.Is(err, ErrDiskFull) || errors.Is(err, ErrChecksum) || isPermanent(err) {
			if errors.Is(err, ErrChecksum) {
				f.Close()
				f = nil
				os.Remove(tr.incomplete)
			}
			return err
		}
		if have > before {
			retries, wait = c.maxRetries(), c.backoff() // progress was made: a fresh budget
		}
		if retries == 0 {
			return fmt.Errorf("hub: downloading %q from %q: %w (the partial file %s is kept; run again to resume)", tr.t.path, tr.t.repo, err, tr.incomplete)
		}
		retries--
		slog.Warn("hub: download interrupted, resuming", "file", tr.t.path, "at", have, "of", tr.size, "err", err, "in", wait)
		if err := c.wait(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, maxBackoff)
	}

	if err := v.check(tr, have); err != nil {
		f.Close()
		f = nil
		os.Remove(tr.incomplete)
		return err
	}
	if err := f.Sync(); err != nil {
		return diskError(err, tr.incomplete)
	}
	if err := f.Close(); err != nil {
		f = nil
		return diskError(err, tr.incomplete)
	}
	f = nil
	if err := os.Rename(tr.incomplete, tr.dest); err != nil {
		return err
	}
	syncDir(filepath.Dir(tr.dest))
	tr.bar.finish()
	return nil
}

var contentRangeRe = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+|\*)$`)

// getInto issues one GET from offset have and copies the body into f and
// v, returning the new offset. A server that ignores the Range (200) or
// answers with another range restarts the file from zero.
func (c *Client) getInto(ctx context.Context, tr *transfer, f *os.File, v *verifier, have int64) (int64, error) {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hdr := metaHeaders()
	if have > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := c.do(rctx, http.MethodGet, tr.url, hdr, followAll)
	if err != nil {
		return have, err
	}
	defer resp.Body.Close()
	// From here a silent connection is cut after stallTimeout and resumed.
	stall := time.AfterFunc(stallTimeout, cancel)
	defer stall.Stop()

	restart := func() error {
		if err := f.Truncate(0); err != nil {
			return err
		}
		v.reset()
		tr.bar.set(0)
		have = 0
		_, err := f.Seek(0, io.SeekStart)
		return err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		m := contentRangeRe.FindStringSubmatch(resp.Header.Get("Content-Range"))
		if m == nil || m[1] != strconv.FormatInt(have, 10) {
			if err := restart(); err != nil {
				return have, err
			}
			return have, fmt.Errorf("server answered range %q to a request from byte %d", resp.Header.Get("Content-Range"), have)
		}
	case http.StatusOK:
		if have > 0 {
			slog.Debug("hub: server ignored the Range header, starting over", "file", tr.t.path)
			if err := restart(); err != nil {
				return have, err
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if err := restart(); err != nil {
			return have, err
		}
		return have, errors.New("server refused the resume range")
	default:
		return have, c.statusError(resp, tr.t, c.Token != "" && c.isHub(resp.Request.URL))
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return have, err
	}

	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(stallTimeout)
			if have+int64(n) > tr.size {
				return have, &checksumError{t: tr.t, what: "size", want: strconv.FormatInt(tr.size, 10) + " bytes", got: "more"}
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return have, diskError(err, tr.incomplete)
			}
			v.Write(buf[:n])
			have += int64(n)
			tr.bar.add(int64(n))
		}
		if rerr == io.EOF {
			if have < tr.size {
				return have, io.ErrUnexpectedEOF
			}
			return have, nil
		}
		if rerr != nil {
			if ctx.Err() == nil && rctx.Err() != nil {
				rerr = errors.New("no data received for " + stallTimeout.String())
			}
			return have, c.scrub(rerr)
		}
	}
}

// syncDir makes a rename durable; failures are ignored (not every
// filesystem can fsync a directory, and the data itself is synced).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
