package server_test

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/bitnet-go/bitnet/runtime/server/internal/fakeengine"
)

// logprobsResponse is a response with its logprobs, in both shapes.
type logprobsResponse struct {
	Choices []struct {
		Index   int    `json:"index"`
		Text    string `json:"text"`
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Delta struct {
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string         `json:"finish_reason"`
		Logprobs     json.RawMessage `json:"logprobs"`
	} `json:"choices"`
	Usage *usage `json:"usage"`
}

type chatLP struct {
	Content []struct {
		Token       string  `json:"token"`
		Logprob     float64 `json:"logprob"`
		Bytes       []int   `json:"bytes"`
		TopLogprobs []struct {
			Token   string  `json:"token"`
			Logprob float64 `json:"logprob"`
			Bytes   []int   `json:"bytes"`
		} `json:"top_logprobs"`
	} `json:"content"`
	Refusal *[]any `json:"refusal"`
}

type textLP struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// The fake favours the next letter by a logit of 10 over 257 tokens at 0,
// so its probability is e^10/(e^10+257).
var favoured = 10 - math.Log(math.Exp(10)+257)

// Each sampling field changes the reply the way it should, against the
// fake's known logits.
func TestSamplingFields(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, func(e *fakeengine.Engine) { e.Endless = true })
	tests := []struct {
		name, extra string
		check       func(t *testing.T, text string)
	}{
		{"greedy baseline", `"temperature":0`, func(t *testing.T, text string) {
			if text != alphabet+"abcd" {
				t.Errorf("got %q", text)
			}
		}},
		{"logit_bias forces a token", `"temperature":0,"logit_bias":{"120":100}`, func(t *testing.T, text string) {
			if text != strings.Repeat("x", 30) {
				t.Errorf("got %q, want only x", text)
			}
		}},
		{"logit_bias bans a token", `"temperature":0,"logit_bias":{"99":-100}`, func(t *testing.T, text string) {
			// After "ab" the favoured 'c' is banned: argmax falls to byte 0.
			if !strings.HasPrefix(text, "ab\x00a") || strings.Contains(text, "c") {
				t.Errorf("got %q", text)
			}
		}},
		{"penalties stop the alphabet repeating", `"temperature":0,"repeat_penalty":10,"presence_penalty":2,"frequency_penalty":2,"repeat_last_n":-1`,
			func(t *testing.T, text string) {
				// 'a' follows 'z' with logit 10/10-2-2 < 0 once seen: the
				// reply leaves the alphabet instead of starting it again.
				if !strings.HasPrefix(text, alphabet) || strings.HasPrefix(text[26:], "a") {
					t.Errorf("got %q", text)
				}
			}},
		{"a penalty window of 0 is off", `"temperature":0,"repeat_penalty":10,"presence_penalty":2,"repeat_last_n":0`, func(t *testing.T, text string) {
			if text != alphabet+"abcd" {
				t.Errorf("got %q", text)
			}
		}},
		{"top_k 1 is greedy at any temperature", `"temperature":2,"seed":5,"top_k":1`, func(t *testing.T, text string) {
			if text != alphabet+"abcd" {
				t.Errorf("got %q", text)
			}
		}},
		{"min_p keeps only the favourite", `"temperature":2,"seed":5,"min_p":0.5`, func(t *testing.T, text string) {
			if text != alphabet+"abcd" {
				t.Errorf("got %q", text)
			}
		}},
		{"temperature 2 alone wanders", `"temperature":2,"seed":5`, func(t *testing.T, text string) {
			if text == alphabet+"abcd" {
				t.Errorf("got the greedy reply at temperature 2: the cases above prove nothing")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"prompt":"` + "`" + `","max_tokens":30,` + tt.extra + `}`
			resp, b := post(t, ts.url+"/v1/completions", body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			var r response
			decode(t, b, &r)
			tt.check(t, r.Choices[0].Text)
		})
	}
}

// Logprobs come in OpenAI's shapes with the fake's exact values, streamed
// the same as whole.
func TestLogprobs(t *testing.T) {
	ts := newTestServer(t, 2, 256, server.Config{}, nil)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

	t.Run("chat", func(t *testing.T) {
		body := `{"messages":[{"role":"user","content":"x"}],"temperature":0,"max_tokens":5,"logprobs":true,"top_logprobs":2}`
		resp, b := post(t, ts.url+"/v1/chat/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var r logprobsResponse
		decode(t, b, &r)
		var lp chatLP
		decode(t, r.Choices[0].Logprobs, &lp)
		if len(lp.Content) != 5 || lp.Refusal != nil {
			t.Fatalf("logprobs %s", r.Choices[0].Logprobs)
		}
		for i, e := range lp.Content {
			want := string(rune('a' + i))
			if e.Token != want || len(e.Bytes) != 1 || e.Bytes[0] != int(want[0]) || !near(e.Logprob, favoured) {
				t.Errorf("token %d: %+v", i, e)
			}
			if len(e.TopLogprobs) != 2 || e.TopLogprobs[0].Token != want || !near(e.TopLogprobs[0].Logprob, favoured) ||
				e.TopLogprobs[1].Token != "\x00" || !near(e.TopLogprobs[1].Logprob, favoured-10) {
				t.Errorf("token %d: top %+v", i, e.TopLogprobs)
			}
		}
		// Streamed: the same entries, spread over the chunks.
		resp, sb := post(t, ts.url+"/v1/chat/completions", strings.Replace(body, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, sb)
		}
		var streamed chatLP
		for _, d := range sseData(t, strings.NewReader(string(sb))) {
			if d == "[DONE]" {
				continue
			}
			var ev logprobsResponse
			decode(t, []byte(d), &ev)
			if len(ev.Choices) == 1 && len(ev.Choices[0].Logprobs) > 0 && string(ev.Choices[0].Logprobs) != "null" {
				var part chatLP
				decode(t, ev.Choices[0].Logprobs, &part)
				streamed.Content = append(streamed.Content, part.Content...)
			}
		}
		got, _ := json.Marshal(streamed.Content)
		want, _ := json.Marshal(lp.Content)
		if string(got) != string(want) {
			t.Errorf("streamed logprobs %s\nwhole %s", got, want)
		}
	})

	t.Run("completions", func(t *testing.T) {
		body := `{"prompt":"k","temperature":0,"max_tokens":3,"logprobs":1}`
		resp, b := post(t, ts.url+"/v1/completions", body)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var r logprobsResponse
		decode(t, b, &r)
		var lp textLP
		decode(t, r.Choices[0].Logprobs, &lp)
		if strings.Join(lp.Tokens, "") != r.Choices[0].Text || r.Choices[0].Text != "lmn" {
			t.Fatalf("tokens %q, text %q", lp.Tokens, r.Choices[0].Text)
		}
		for i := range lp.Tokens {
			if !near(lp.TokenLogprobs[i], favoured) || lp.TextOffset[i] != i || len(lp.TopLogprobs[i]) != 1 ||
				!near(lp.TopLogprobs[i][lp.Tokens[i]], favoured) {
				t.Errorf("token %d: %v %v %v", i, lp.TokenLogprobs[i], lp.TextOffset[i], lp.TopLogprobs[i])
			}
		}
	})

	t.Run("absent unless asked", func(t *testing.T) {
		_, b := post(t, ts.url+"/v1/completions", `{"prompt":"k","temperature":0,"max_tokens":2}`)
		if !strings.Contains(string(b), `"logprobs":null`) {
			t.Errorf("%s", b)
		}
	})
}

// Choices of n > 1 share the prompt's KV cache, differ by seed, and count
// the prompt once.
func TestSeveralChoices(t *testing.T) {
	ts := newTestServer(t, 4, 256, server.Config{}, nil)
	prompt := "the prompt of several choices"
	body := `{"prompt":"` + prompt + `","n":3,"max_tokens":8,"temperature":2,"seed":11}`
	resp, b := post(t, ts.url+"/v1/completions", body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var r response
	decode(t, b, &r)
	if len(r.Choices) != 3 {
		t.Fatalf("%d choices: %s", len(r.Choices), b)
	}
	texts := map[string]bool{}
	for i, c := range r.Choices {
		if c.Index != i || c.FinishReason == nil {
			t.Errorf("choice %d: %+v", i, c)
		}
		texts[c.Text] = true
	}
	if len(texts) < 2 {
		t.Errorf("the choices are all alike: %v", texts)
	}
	promptLen := 1 + len(prompt)
	if r.Usage.Prompt != promptLen || r.Usage.Total != r.Usage.Prompt+r.Usage.Completion || r.Usage.Completion < 3 {
		t.Errorf("usage %+v", r.Usage)
	}
	st := ts.eng.Stats()
	if st.Copies != 2 || st.Copied != 2*(promptLen-1) {
		t.Errorf("prompt copies: %d of %d positions, want 2 of %d", st.Copies, st.Copied, 2*(promptLen-1))
	}
	// Whole prompts read: one, plus the last token of each other choice.
	if got := ts.srv.Stats().Shared; got != int64(2*(promptLen-1)) {
		t.Errorf("Stats.Shared = %d", got)
	}
	// The same seed reproduces every choice.
	_, b2 := post(t, ts.url+"/v1/completions", body)
	var r2 response
	decode(t, b2, &r2)
	for i := range r.Choices {
		if r2.Choices[i].Text != r.Choices[i].Text {
			t.Errorf("choice %d: %q, then %q", i, r.Choices[i].Text, r2.Choices[i].Text)
		}
	}

	// Streamed, chat: each choice opens, carries its text and ends once.
	resp, sb := post(t, ts.url+"/v1/chat/completions",
		`{"messages":[{"role":"user","content":"x"}],"n":2,"temperature":0,"max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, sb)
	}
	s := readStream(t, strings.NewReader(string(sb)))
	text, ends := map[int]string{}, map[int]int{}
	for _, ev := range s.events {
		for _, c := range ev.Choices {
			if c.Delta.Content != nil {
				text[c.Index] += *c.Delta.Content
			}
			if c.FinishReason != nil {
				ends[c.Index]++
			}
		}
	}
	if text[0] != "abcd" || text[1] != "abcd" || ends[0] != 1 || ends[1] != 1 || !s.done {
		t.Errorf("texts %v, ends %v, done %v", text, ends, s.done)
	}
	if s.usage == nil || s.usage.Completion != 8 {
		t.Errorf("usage %+v", s.usage)
	}
}

// More choices than slots: the later ones wait for a slot and, their first
// choice gone, read the prompt themselves.
func TestChoicesBeyondSlots(t *testing.T) {
	ts := newTestServer(t, 1, 256, server.Config{}, nil)
	resp, b := post(t, ts.url+"/v1/completions", `{"prompt":"q","n":3,"max_tokens":4,"temperature":0}`)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var r response
	decode(t, b, &r)
	if len(r.Choices) != 3 {
		t.Fatalf("%s", b)
	}
	for _, c := range r.Choices {
		if c.Text != "rstu" {
			t.Errorf("choice %d: %q", c.Index, c.Text)
		}
	}
	if st := ts.eng.Stats(); st.Copies != 0 {
		t.Errorf("%d copies with one slot", st.Copies)
	}
}

// Any model name is served unless StrictModel is set.
func TestModelNames(t *testing.T) {
	for _, strict := range []bool{false, true} {
		ts := newTestServer(t, 1, 64, server.Config{ModelID: "tiny", StrictModel: strict}, nil)
		for _, name := range []string{"tiny", "gpt-4o-mini", ""} {
			resp, b := post(t, ts.url+"/v1/chat/completions",
				`{"model":"`+name+`","messages":[{"role":"user","content":"x"}],"max_tokens":2}`)
			want := 200
			if strict && name == "gpt-4o-mini" {
				want = 404
			}
			if resp.StatusCode != want {
				t.Errorf("strict %v, model %q: %d %s", strict, name, resp.StatusCode, b)
			}
			if want == 200 && !strings.Contains(string(b), `"model":"tiny"`) {
				t.Errorf("strict %v, model %q: the reply names another model: %s", strict, name, b)
			}
		}
	}
}
