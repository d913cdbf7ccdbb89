package server_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
)

// A slot that copies another's prompt prefix and reads only the last
// token gets the very logits of a slot that read the whole prompt.
func TestRuntimeEngineCopyPrefix(t *testing.T) {
	m := tinyModel(t)
	eng, err := server.NewRuntimeEngine(m, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := eng.EncodePrompt("a prompt read once and shared between choices")
	n := len(p) - 1
	step := func(entries ...server.StepEntry) []server.StepEntry {
		t.Helper()
		if err := eng.Step(entries); err != nil {
			t.Fatal(err)
		}
		return entries
	}
	whole := slices.Clone(step(server.StepEntry{Slot: 0, Tokens: p, WantLogits: true})[0].Logits)
	// Slot 2 holds something else first: the copy replaces it.
	step(server.StepEntry{Slot: 2, Tokens: eng.EncodePrompt("other text that was there before")})
	if err := eng.CopyPrefix(2, 0, n); err != nil {
		t.Fatal(err)
	}
	shared := step(server.StepEntry{Slot: 2, Pos: n, Tokens: p[n:], WantLogits: true})[0].Logits
	if !slices.Equal(shared, whole) {
		t.Error("logits after a copied prefix differ from reading the whole prompt")
	}
	for _, bad := range [][3]int{{1, 1, 0}, {1, 0, len(p) + 1}, {5, 0, 1}, {1, 0, -1}} {
		if err := eng.CopyPrefix(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("CopyPrefix(%d, %d, %d) was accepted", bad[0], bad[1], bad[2])
		}
	}
}

// n > 1 over the real runtime: greedy choices all equal the n = 1 reply,
// and all but the first read only the prompt's last token.
func TestRuntimeEngineSeveralChoices(t *testing.T) {
	m := tinyModel(t)
	url, eng, srv := serveModel(t, m, 4)
	ask := func(n int) response {
		body := fmt.Sprintf(`{"prompt":"several choices of one prompt","temperature":0,"max_tokens":8,"n":%d,"logprobs":2}`, n)
		resp, b := post(t, url+"/v1/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var r response
		decode(t, b, &r)
		return r
	}
	one := ask(1)
	three := ask(3)
	for i, c := range three.Choices {
		if c.Text != one.Choices[0].Text {
			t.Errorf("choice %d: %q, want %q", i, c.Text, one.Choices[0].Text)
		}
	}
	prompt := len(eng.EncodePrompt("several choices of one prompt"))
	if got := srv.Stats().Shared; got != int64(2*(prompt-1)) {
		t.Errorf("%d prompt positions shared, want %d", got, 2*(prompt-1))
	}
}
