package server

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
)

// routes builds the handler tree. Every error, a wrong path or method
// included, answers in OpenAI's JSON shape.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, prefix := range []string{"/v1", ""} { // llama-server also answers without /v1
		mux.HandleFunc(prefix+"/chat/completions", only(http.MethodPost, s.handleChat))
		mux.HandleFunc(prefix+"/completions", only(http.MethodPost, s.handleCompletions))
		mux.HandleFunc(prefix+"/models", only(http.MethodGet, s.handleModels))
		mux.HandleFunc(prefix+"/models/{id}", only(http.MethodGet, s.handleModel))
	}
	mux.HandleFunc("/health", only(http.MethodGet, s.handleHealth))
	s.registerTextRoutes(mux) // /tokenize, /detokenize, /apply-template (tokenize.go)
	mux.HandleFunc("/props", only(http.MethodGet, s.handleProps))
	mux.Handle("/metrics", only(http.MethodGet, s.metrics.handler().ServeHTTP))
	mux.HandleFunc("/{$}", only(http.MethodGet, s.handleWebUI))
	mux.Handle(webUIPrefix, only(http.MethodGet, s.webUIAssets().ServeHTTP))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newAPIError(http.StatusNotFound, typeInvalidRequest, "not_found",
			fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)))
	})
	return overflowGuard(s.bodyDeadline(s.metrics.count(s.cors(s.auth(mux)))))
}

// only restricts a handler to one method (HEAD too for GET).
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, newAPIError(http.StatusMethodNotAllowed, typeInvalidRequest, "method_not_allowed",
				fmt.Sprintf("%s %s is not allowed; use %s", r.Method, r.URL.Path, method)))
			return
		}
		h(w, r)
	}
}

// auth checks the bearer API key when one is configured. /health stays open
// so that load balancers and orchestrators can probe without the key, and
// so does the web page, which asks for the key and sends it with its own
// API calls (a browser cannot attach it to a page load).
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.APIKey == "" {
		return next
	}
	want := []byte(s.cfg.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/health" || p == "/" || strings.HasPrefix(p, webUIPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := bearer(r.Header.Get("Authorization"))
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bitnet"`)
			msg := "Incorrect API key provided."
			if !ok {
				msg = "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'."
			}
			writeError(w, newAPIError(http.StatusUnauthorized, typeInvalidRequest, "invalid_api_key", msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer extracts the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) < len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	return strings.TrimSpace(h[len(p):]), true
}

func (s *Server) modelEntry() modelEntry {
	return modelEntry{ID: s.cfg.ModelID, Object: "model", Created: s.created, OwnedBy: "bitnet"}
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelEntry{s.modelEntry()}})
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("id"); id != s.cfg.ModelID {
		writeError(w, newAPIError(http.StatusNotFound, typeInvalidRequest, "model_not_found",
			fmt.Sprintf("The model '%s' does not exist", id)))
		return
	}
	writeJSON(w, http.StatusOK, s.modelEntry())
}

// health reports "ok" while serving and 503 once draining, so that a load
// balancer stops sending work during a graceful shutdown.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	type health struct {
		Status string `json:"status"`
		Stats
	}
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, health{"shutting down", s.Stats()})
		return
	}
	writeJSON(w, http.StatusOK, health{"ok", s.Stats()})
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if e := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); e != nil {
		writeError(w, e)
		return
	}
	g, e := req.validate(&s.cfg, s.eng)
	if e == nil {
		g.logprobs, e = req.logprobs(s.eng)
	}
	var msgs []ChatMessage
	if e == nil {
		msgs, e = req.chatMessages()
	}
	if e == nil {
		e = s.checkChatSize(msgs)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	msgs, plan, e := s.structured(&req, &g, msgs)
	if e != nil {
		writeError(w, e)
		return
	}
	toks, e := s.encodeChat(msgs)
	if e != nil {
		writeError(w, e)
		return
	}
	g.prompt = toks
	// A constrained reply ends by its grammar; the chat format's stop
	// strings could only cut a JSON string that happens to hold one.
	if cs, ok := s.eng.(ChatStopper); ok && g.gram == nil {
		g.stops = append(g.stops[:len(g.stops):len(g.stops)], cs.ChatStops()...)
	}
	f := s.newFormat(true)
	f.tools, f.forced = plan != nil, plan != nil && plan.forced
	s.generate(w, r, g, f)
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	var req completionRequest
	if e := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); e != nil {
		writeError(w, e)
		return
	}
	g, e := req.validate(&s.cfg, s.eng)
	if e == nil {
		e = req.unsupported()
	}
	if e == nil {
		g.logprobs, e = req.logprobs(s.eng)
	}
	if e == nil {
		g.prompt, e = req.promptTokens(s.eng, s.encodePrompt)
	}
	if e == nil {
		e = s.completionFormat(&req, &g)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	s.generate(w, r, g, s.newFormat(false))
}
