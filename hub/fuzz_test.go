package hub

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// Fuzz targets for what the Hub sends: tree pages, revision info, and the
// Link header that paginates listings.

func FuzzTreePage(f *testing.F) {
	f.Add([]byte(`[{"type":"file","path":"config.json","size":512,"oid":"0123456789abcdef0123456789abcdef01234567"},{"type":"directory","path":"sub","size":0,"oid":"x"},{"type":"file","path":"model.safetensors","size":10,"oid":"aa","lfs":{"oid":"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789","size":1000,"pointerSize":134}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"type":"file","path":"","size":-1}]`))
	f.Add([]byte(`{"error":"Repository not found"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var files []FileInfo
		err := decodeTree(bytes.NewReader(b), func(e treeEntry) error {
			if e.Type != "file" {
				return nil
			}
			fi, err := e.fileInfo()
			if err != nil {
				return err
			}
			files = append(files, fi)
			return nil
		})
		if err != nil {
			if len(err.Error()) > 2000 {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		for _, fi := range files {
			if fi.Size < 0 || fi.Path == "" || len(fi.Path) > maxPathBytes {
				t.Fatalf("accepted %+v", fi)
			}
		}
		// Every file accepted here is refused or accepted by Download's own
		// check, never panics it.
		for _, fi := range files {
			_ = validateRepoPath(fi.Path)
		}
	})
}

func FuzzRepoInfo(f *testing.F) {
	f.Add([]byte(`{"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"config.json"}]}`))
	f.Add([]byte(`{"sha":"../../etc"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var info repoInfo
		if json.NewDecoder(&capReader{r: bytes.NewReader(b), left: maxPageBytes}).Decode(&info) != nil {
			return
		}
		if err := validateCommit(info.SHA); err == nil && (len(info.SHA) != 40 || strings.ContainsAny(info.SHA, "./\\")) {
			t.Fatalf("accepted commit %q", info.SHA)
		}
	})
}

func FuzzNextLink(f *testing.F) {
	f.Add(`<https://huggingface.co/api/models/o/r/tree/main?recursive=true&cursor=abc>; rel="next"`, "https://huggingface.co/api/models/o/r/tree/main?recursive=true")
	f.Add(`</api/x?cursor=1>; rel=next, <https://e/prev>; rel="prev"`, "http://127.0.0.1:8080/api/x")
	f.Add(`<:bad>; rel="next"`, "https://h/")
	f.Add(``, "https://h/")
	f.Fuzz(func(t *testing.T, h, base string) {
		bu, err := url.Parse(base)
		if err != nil {
			return
		}
		next, err := nextLink(h, bu)
		if err != nil {
			if len(err.Error()) > 2000 {
				t.Fatalf("error message of %d bytes", len(err.Error()))
			}
			return
		}
		if next == "" {
			return
		}
		if _, err := url.Parse(next); err != nil {
			t.Fatalf("nextLink returned an unparsable URL %q: %v", next, err)
		}
	})
}
