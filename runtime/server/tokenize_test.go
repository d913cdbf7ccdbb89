package server_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/bitnet-go/bitnet/runtime/server"
)

// TestTextEndpoints drives /tokenize, /detokenize and /apply-template of a
// real model in llama-server's shapes.
func TestTextEndpoints(t *testing.T) {
	m := tinyModel(t)
	tok := m.Tokenizer()
	eng, err := server.NewRuntimeEngine(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(eng, server.Config{ModelID: "tiny", APIKey: "k", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Close(); hs.Close() })
	auth := []string{"Authorization", "Bearer k"}
	text := "Hello world<|eot_id|>"
	eot, _ := tok.Lookup("<|eot_id|>")

	var toks struct{ Tokens []int32 }
	for _, c := range []struct {
		name, body string
		want       []int32
	}{
		{"defaults: no BOS, specials parsed", `{"content": "Hello world<|eot_id|>"}`, tok.Encode(text, false, true)},
		{"add_special", `{"content": "Hello world<|eot_id|>", "add_special": true}`, tok.Encode(text, true, true)},
		{"parse_special false", `{"content": "Hello world<|eot_id|>", "parse_special": false}`, tok.Encode(text, false, false)},
		{"empty", `{"content": ""}`, []int32{}},
	} {
		resp, body := post(t, hs.URL+"/tokenize", c.body, auth...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		decode(t, body, &toks)
		if !slices.Equal(toks.Tokens, c.want) {
			t.Errorf("%s: tokens %v, want %v", c.name, toks.Tokens, c.want)
		}
	}
	if slices.Contains(tok.Encode(text, false, false), eot) || !slices.Contains(tok.Encode(text, false, true), eot) {
		t.Fatal("parse_special makes no difference on this vocabulary")
	}

	var pieces struct {
		Tokens []struct {
			ID    int32
			Piece any
		}
	}
	_, body := post(t, hs.URL+"/tokenize", `{"content": "Hello world<|eot_id|>", "with_pieces": true}`, auth...)
	decode(t, body, &pieces)
	var joined strings.Builder
	for _, p := range pieces.Tokens {
		joined.WriteString(p.Piece.(string))
	}
	if joined.String() != text {
		t.Errorf("pieces join to %q (%s)", joined.String(), body)
	}

	var detok struct{ Content string }
	ids := tok.Encode(text, true, true)
	_, body = post(t, hs.URL+"/detokenize", `{"tokens": `+idsJSON(t, ids)+`}`, auth...)
	decode(t, body, &detok)
	if detok.Content != "<|begin_of_text|>"+text {
		t.Errorf("detokenize: %q", detok.Content)
	}

	// /apply-template renders with the model's template: the dummy GGUF's
	// Llama-3 style one, through Jinja, exactly as chat requests see it.
	msgs := `{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}`
	var applied struct{ Prompt string }
	resp, body := post(t, hs.URL+"/apply-template", msgs, auth...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("apply-template: %d %s", resp.StatusCode, body)
	}
	decode(t, body, &applied)
	tmpl, err := chat.ForTokenizer(tok, m.Config().Arch, m.Path(), "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tmpl.Apply([]chat.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}, true)
	if applied.Prompt != want || !strings.HasSuffix(want, "<|start_header_id|>assistant<|end_header_id|>\n\n") {
		t.Errorf("apply-template: %q, want %q", applied.Prompt, want)
	}

	for _, c := range []struct {
		path, body string
		status     int
		want       string
	}{
		{"/tokenize", `{}`, 400, "'content'"},
		{"/tokenize", `{"content": 5}`, 400, "content"},
		{"/detokenize", `{"tokens": [1, 99999]}`, 400, "token 99999"},
		{"/apply-template", `{"messages": []}`, 400, "non-empty"},
		{"/apply-template", `{"messages": [{"role": "wizard", "content": "x"}]}`, 400, "wizard"},
	} {
		resp, body := post(t, hs.URL+c.path, c.body, auth...)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s: %d %s, want %d mentioning %q", c.path, c.body, resp.StatusCode, body, c.status, c.want)
		}
	}
	if resp, _ := post(t, hs.URL+"/tokenize", `{"content": "x"}`); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/tokenize without the API key: %d", resp.StatusCode)
	}
	if resp, _ := get(t, hs.URL+"/tokenize", auth...); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /tokenize: %d", resp.StatusCode)
	}
}

// TestTextEndpointsNeedTextEngine: an engine without a tokenizer answers
// 501 rather than failing.
func TestTextEndpointsNeedTextEngine(t *testing.T) {
	ts := newTestServer(t, 1, 64, server.Config{}, nil)
	resp, body := post(t, ts.url+"/tokenize", `{"content": "x"}`)
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(body), "/tokenize") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// TestChatTemplateErrorIs400: a template that raises answers the chat
// request with 400 and the template's message, and the server goes on.
func TestChatTemplateErrorIs400(t *testing.T) {
	m := tinyModel(t)
	raise := filepath.Join(t.TempDir(), "raise.jinja")
	if err := os.WriteFile(raise, []byte("{% if messages|length > 1 %}{{ raise_exception('one message only') }}{% endif %}{{ messages[0].content }}"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng, err := server.NewRuntimeEngineTemplate(m, 1, raise)
	if err != nil {
		t.Fatal(err)
	}
	url, _ := serveEngine(t, eng)
	resp, body := post(t, url+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "max_tokens": 2}`)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "raise.jinja: line 1: raise_exception: one message only") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	resp, body = post(t, url+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "a"}], "max_tokens": 2}`)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the error: %d %s", resp.StatusCode, body)
	}
	if _, err := server.NewRuntimeEngineTemplate(m, 1, "no-such-format"); err == nil || !strings.Contains(err.Error(), "no-such-format") {
		t.Errorf("unknown --chat-template: %v", err)
	}
}

func idsJSON(t *testing.T, ids []int32) string {
	b, err := json.Marshal(ids)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
