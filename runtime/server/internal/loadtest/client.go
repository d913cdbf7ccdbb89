package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// streamChat runs one streamed chat completion and checks the stream's
// shape: events parse, the last one carries a finish reason, usage comes
// with include_usage, and [DONE] ends it. With a non-empty responseFormat
// (a JSON value) the request carries it. It returns the completion tokens,
// the reply's text and its finish reason.
//
// Every fourth request of a client also asks for the logit filters and
// logprobs (penalties, top_k, min_p, logit_bias, top_logprobs), so their
// cost is part of the measurement; a json_schema request may be one of
// them (the filters pick among the tokens its grammar allows).
func streamChat(ctx context.Context, c *http.Client, base string, client, n, maxTokens int, responseFormat string) (int, string, string, error) {
	extra := ""
	if n%4 == 3 {
		extra = `"frequency_penalty":0.5,"presence_penalty":0.5,"repeat_penalty":1.1,"top_k":40,"min_p":0.05,` +
			`"logit_bias":{"300":2},"logprobs":true,"top_logprobs":5,`
	}
	if responseFormat != "" {
		extra += `"response_format":` + responseFormat + `,`
	}
	body := fmt.Sprintf(`{"messages":[{"role":"user","content":"client %d request %d: tell me a story"}],%s`+
		`"max_tokens":%d,"stream":true,"stream_options":{"include_usage":true}}`, client, n, extra, maxTokens)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		return 0, "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, "", "", fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var finish string
	var text strings.Builder
	usage := -1
	done := false
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return 0, "", "", err
		}
		data, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev struct {
			Error   *struct{ Message string } `json:"error"`
			Choices []struct {
				FinishReason *string `json:"finish_reason"`
				Delta        struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				Completion int `json:"completion_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			return 0, "", "", fmt.Errorf("bad event %q: %v", data, err)
		}
		if ev.Error != nil {
			return 0, "", "", fmt.Errorf("error event: %s", ev.Error.Message)
		}
		for _, ch := range ev.Choices {
			text.WriteString(ch.Delta.Content)
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
		if ev.Usage != nil {
			usage = ev.Usage.Completion
		}
	}
	switch {
	case !done:
		return 0, "", "", errors.New("stream ended without [DONE]")
	case finish != "stop" && finish != "length":
		return 0, "", "", fmt.Errorf("finish_reason %q", finish)
	case usage < 1 || usage > maxTokens:
		return 0, "", "", fmt.Errorf("usage.completion_tokens %d", usage)
	}
	return usage, text.String(), finish, nil
}
