package server

import (
	"embed"
	"io/fs"
	"net/http"
)

// The web chat page: plain HTML, CSS and JavaScript embedded in the binary,
// with no build step and nothing fetched from elsewhere, so it works
// offline and on a machine without internet access.
//
//go:embed webui
var webUIFiles embed.FS

// webUIPrefix is where the page's scripts and styles are served.
const webUIPrefix = "/webui/"

// pageSecurity is the page's Content-Security-Policy: only its own scripts
// and styles, and API calls to this server. With inline scripts refused, a
// reply that slipped markup past the renderer still could not run code.
const pageSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) handleWebUI(w http.ResponseWriter, r *http.Request) {
	page, err := webUIFiles.ReadFile("webui/index.html")
	if err != nil { // embedded at build time: cannot happen in a built binary
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", pageSecurity)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

// webUIAssets serves the page's other files under webUIPrefix.
func (s *Server) webUIAssets() http.Handler {
	sub, err := fs.Sub(webUIFiles, "webui")
	if err != nil {
		panic(err) // "webui" is a literal directory of the embed
	}
	files := http.StripPrefix(webUIPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
