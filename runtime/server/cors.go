package server

import (
	"net/http"
	"slices"
)

// cors lets browsers on Config.CORSOrigins call the API. A preflight
// (OPTIONS with Access-Control-Request-Method) from an allowed origin is
// answered here, before the API key is checked, because browsers never
// send credentials on a preflight; the request that follows is checked as
// usual. Other origins get no CORS headers, so browsers refuse them.
func (s *Server) cors(next http.Handler) http.Handler {
	origins := s.cfg.CORSOrigins
	if len(origins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !anyOrigin {
			// The answer depends on Origin: caches must keep one per origin.
			h.Add("Vary", "Origin")
		}
		origin := r.Header.Get("Origin")
		if origin == "" || !(anyOrigin || slices.Contains(origins, origin)) {
			next.ServeHTTP(w, r)
			return
		}
		if anyOrigin {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		// Echoing the asked-for headers allows Authorization, which the
		// "*" wildcard of Access-Control-Allow-Headers does not cover.
		if want := r.Header.Get("Access-Control-Request-Headers"); want != "" {
			h.Set("Access-Control-Allow-Headers", want)
		} else {
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}
