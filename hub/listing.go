package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decodeTree reads one page of the tree API, a JSON array of entries, and
// hands each entry to fn as soon as it is decoded: an entry is checked
// before the next one is read, and the page is never held whole.
func decodeTree(r io.Reader, fn func(treeEntry) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return errors.New(clip(err.Error()))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("expected a JSON array of files, got %v", clipValue(tok))
	}
	for i := 0; dec.More(); i++ {
		var e treeEntry
		if err := dec.Decode(&e); err != nil {
			return fmt.Errorf("entry %d: %s", i, clip(err.Error())) // JSON errors quote values
		}
		if err := fn(e); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return errors.New(clip(err.Error()))
	}
	return nil
}

// fileInfo checks one listed file and converts it. The path is only
// bounded here; Download checks it fully before it names a file.
func (e treeEntry) fileInfo() (FileInfo, error) {
	if len(e.Path) > maxPathBytes {
		return FileInfo{}, fmt.Errorf("path %q is %d bytes long, more than %d", clip(e.Path), len(e.Path), maxPathBytes)
	}
	if e.Path == "" {
		return FileInfo{}, errors.New("a file without a path")
	}
	fi := FileInfo{Path: e.Path, Size: e.Size, OID: e.OID}
	if e.LFS != nil {
		fi.SHA256 = strings.ToLower(e.LFS.OID)
		fi.Size = e.LFS.Size
	}
	if fi.Size < 0 {
		return FileInfo{}, fmt.Errorf("negative size for %q", clip(e.Path))
	}
	if len(fi.OID) > 64 || len(fi.SHA256) > 64 {
		return FileInfo{}, fmt.Errorf("%q has an over-long object id", clip(e.Path))
	}
	return fi, nil
}

func clipValue(v any) string { return clip(fmt.Sprint(v)) }

// listingBudget bounds the bytes read by all the pages of one listing.
type listingBudget struct{ left int64 }

func (b *listingBudget) reader(r io.Reader) io.Reader {
	return &capReader{r: r, left: b.left, err: fmt.Errorf("the listing is larger than the %d bytes allowed", maxListingBytes), spent: &b.left}
}

// capReader reads at most left bytes from r, then fails with err (not a
// bare EOF, which a JSON decoder would report as "unexpected EOF" without
// saying that a limit was hit). spent, if set, is decremented as bytes are
// read, so that one budget can span several readers.
type capReader struct {
	r     io.Reader
	left  int64
	err   error
	spent *int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One probe byte tells a body that ends exactly at the limit from
		// one that goes on.
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.spent != nil {
		*c.spent -= int64(n)
	}
	return n, err
}
