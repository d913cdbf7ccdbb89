package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
)

// Preflights from allowed origins are answered before the API key is
// checked; other origins get no CORS headers.
func TestCORS(t *testing.T) {
	tests := []struct {
		name        string
		origins     []string
		origin      string
		wantAllow   string // Access-Control-Allow-Origin
		wantPreStat int
	}{
		{"none configured", nil, "https://app.example", "", 401},
		{"listed origin", []string{"https://app.example"}, "https://app.example", "https://app.example", 204},
		{"unlisted origin", []string{"https://app.example"}, "https://evil.example", "", 401},
		{"any origin", []string{"*"}, "https://evil.example", "*", 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, 1, 64, server.Config{APIKey: "k", CORSOrigins: tt.origins}, nil)
			resp, _ := request(t, http.MethodOptions, ts.url+"/v1/chat/completions",
				"Origin", tt.origin, "Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "authorization, content-type")
			if resp.StatusCode != tt.wantPreStat {
				t.Errorf("preflight status %d, want %d", resp.StatusCode, tt.wantPreStat)
			}
			h := resp.Header
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("preflight Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if tt.wantPreStat == 204 {
				if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
					!strings.Contains(h.Get("Access-Control-Allow-Headers"), "authorization") || h.Get("Access-Control-Max-Age") == "" {
					t.Errorf("preflight headers %v", h)
				}
			}
			// The actual request: the key is still checked, and its answer
			// (an error too) carries Allow-Origin so the page can read it.
			resp, _ = request(t, http.MethodGet, ts.url+"/v1/models", "Origin", tt.origin, "Authorization", "Bearer k")
			if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Errorf("GET: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			resp, _ = request(t, http.MethodGet, ts.url+"/v1/models", "Origin", tt.origin)
			if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != tt.wantAllow {
				t.Errorf("GET without key: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
			}
			if len(tt.origins) > 0 && tt.origins[0] != "*" && !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
				t.Errorf("no Vary: Origin")
			}
		})
	}
}

// /metrics speaks Prometheus text and counts what was served.
func TestMetrics(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	post(t, ts.url+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}],"temperature":0}`)
	post(t, ts.url+"/v1/completions", `{"prompt":"x","max_tokens":0}`)
	resp, body := request(t, http.MethodGet, ts.url+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	promptLen := chatPromptLen("x")
	for _, want := range []string{
		`bitnet_requests_total{code="200",endpoint="/v1/chat/completions"} 1`,
		`bitnet_requests_total{code="400",endpoint="/v1/completions"} 1`,
		"bitnet_generated_tokens_total 27",
		"bitnet_prompt_tokens_total " + strconv.Itoa(promptLen),
		"bitnet_time_to_first_token_seconds_count 1",
		"bitnet_generation_tokens_per_second_count 1",
		"bitnet_slots_total 2",
		"bitnet_slots_busy 0",
		"bitnet_queue_depth 0",
		"# TYPE bitnet_time_to_first_token_seconds histogram",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}

// /props answers in llama-server's shape.
func TestProps(t *testing.T) {
	ts := newTestServer(t, 3, 128, server.Config{ModelID: "tiny", MaxTokens: 50, BuildInfo: "test-build"}, nil)
	var p struct {
		Default struct {
			NCtx   int `json:"n_ctx"`
			Params struct {
				NPredict    int     `json:"n_predict"`
				Temperature float64 `json:"temperature"`
				TopP        float64 `json:"top_p"`
			} `json:"params"`
		} `json:"default_generation_settings"`
		TotalSlots int    `json:"total_slots"`
		ModelAlias string `json:"model_alias"`
		BuildInfo  string `json:"build_info"`
	}
	resp, b := get(t, ts.url+"/props")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	decode(t, b, &p)
	if p.Default.NCtx != 128 || p.TotalSlots != 3 || p.ModelAlias != "tiny" || p.Default.Params.NPredict != 50 ||
		p.Default.Params.Temperature != 1 || p.Default.Params.TopP != 1 || p.BuildInfo != "test-build" {
		t.Errorf("props %s", b)
	}
}

// The web page loads without the API key (it asks for it), with a strict
// Content-Security-Policy; the API behind it still needs the key.
func TestWebUI(t *testing.T) {
	ts := newTestServer(t, 1, 64, server.Config{APIKey: "k"}, nil)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/", "text/html", `<script src="/webui/app.js"`},
		{"/webui/app.js", "text/javascript", "localStorage"},
		{"/webui/markdown.js", "text/javascript", "escapeHTML"},
		{"/webui/style.css", "text/css", "body"},
	}
	for _, tt := range tests {
		resp, body := request(t, http.MethodGet, ts.url+tt.path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) || !strings.Contains(body, tt.contains) {
			t.Errorf("%s: %d %s, %d bytes", tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	resp, _ := request(t, http.MethodGet, ts.url+"/")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if resp, _ := request(t, http.MethodGet, ts.url+"/webui/nope.js"); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
	if resp, _ := request(t, http.MethodGet, ts.url+"/metrics"); resp.StatusCode != 401 {
		t.Errorf("/metrics without key: %d", resp.StatusCode)
	}
}
