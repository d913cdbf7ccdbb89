package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

// FuzzRequest sends arbitrary bodies to both generation endpoints through
// the server's handler: every answer is a 2xx or a 4xx with OpenAI's error
// shape, never a panic or a 500. MaxTokens 1 keeps the accepted requests
// cheap.
func FuzzRequest(f *testing.F) {
	for _, s := range []struct {
		chat bool
		body string
	}{
		{false, `{"prompt":"hello","max_tokens":2,"temperature":0}`},
		{false, `{"prompt":["one"],"stop":["\n","x"],"stream":true,"stream_options":{"include_usage":true}}`},
		{false, `{"prompt":[1,2,3,-4],"seed":-1}`},
		{false, `{"prompt":[[1],[2]],"n":2,"logprobs":3,"echo":true}`},
		{true, `{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":3}`},
		{true, `{"messages":[{"role":"developer","content":null},{"role":"tool","content":"x"}],"top_p":1.5}`},
		{true, `{"model":"other","messages":[]}`},
		{true, `[]`},
	} {
		f.Add(s.chat, []byte(s.body))
	}
	eng := fakeengine.New(1, 64)
	srv, err := server.New(eng, server.Config{ModelID: "fake", MaxTokens: 1, MaxBodyBytes: 1 << 16, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, chat bool, body []byte) {
		path := "/v1/completions"
		if chat {
			path = "/v1/chat/completions"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body))))
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var e struct {
				Error struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("%d with a body that is not an OpenAI error: %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}
