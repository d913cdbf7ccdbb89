package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
)

// maxStops is OpenAI's limit on stop sequences.
const maxStops = 4

// genRequest is a validated generation request, whatever the endpoint.
type genRequest struct {
	prompt       []int32
	maxTokens    int // 0: as many as fit
	params       SamplingParams
	stops        []string
	stream       bool
	includeUsage bool
	logits       logitParams
	logprobs     int          // alternatives per token; -1: no logprobs
	n            int          // choices
	gram         *grammarSpec // structured output (structured.go)
}

// maxChoices bounds n: every choice takes a KV cache slot (or waits for
// one) and a queue entry.
const maxChoices = 16

// decodeBody reads a JSON request body of at most limit bytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) *apiError {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return newAPIError(http.StatusRequestEntityTooLarge, typeInvalidRequest, "request_too_large",
				fmt.Sprintf("request body is larger than the server's limit of %d bytes", limit))
		}
		return badRequest("", "could not read the request body: "+err.Error())
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("", "the request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return jsonError(err)
	}
	return checkFields(body, v)
}

// jsonError explains a decoding error in terms of the request's fields.
func jsonError(err error) *apiError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		// The path names embedded Go structs too; the client knows only
		// the JSON fields.
		field := strings.TrimPrefix(typeErr.Field, "commonRequest.")
		if field == "" {
			return badRequest("", "the request body must be a JSON object")
		}
		return badRequest(field, fmt.Sprintf("invalid type for '%s': expected %s, got JSON %s",
			field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.As(err, &syntaxErr):
		return badRequest("", fmt.Sprintf("malformed JSON in the request body at byte %d: %v", syntaxErr.Offset, err))
	}
	return badRequest("", "malformed JSON in the request body: "+err.Error())
}

// jsonKind names a Go kind in JSON terms.
func jsonKind(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case kind == "slice":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return kind
}

// validate checks the fields both endpoints share. Any model name is
// served unless Config.StrictModel asks for the served one.
func (c *commonRequest) validate(cfg *Config, eng Engine) (genRequest, *apiError) {
	g := genRequest{logprobs: -1, n: 1}
	if cfg.StrictModel && c.Model != "" && c.Model != cfg.ModelID {
		return g, newAPIError(http.StatusNotFound, typeInvalidRequest, "model_not_found",
			fmt.Sprintf("The model '%s' does not exist; this server serves '%s'", c.Model, cfg.ModelID))
	}
	if c.N != nil {
		if *c.N < 1 || *c.N > maxChoices {
			return g, badRequest("n", fmt.Sprintf("n must be between 1 and %d", maxChoices))
		}
		g.n = *c.N
	}
	maxTokens, name := c.MaxTokens, "max_tokens"
	if c.MaxCompletionTokens != nil {
		maxTokens, name = c.MaxCompletionTokens, "max_completion_tokens"
	}
	if maxTokens != nil {
		if *maxTokens < 1 {
			return g, badRequest(name, name+" must be at least 1")
		}
		g.maxTokens = *maxTokens
	}
	g.params = SamplingParams{Temperature: 1, TopP: 1}
	if t := c.Temperature; t != nil {
		if !(*t >= 0 && *t <= 2) {
			return g, badRequest("temperature", "temperature must be between 0 and 2")
		}
		g.params.Temperature = *t
	}
	if p := c.TopP; p != nil {
		if !(*p >= 0 && *p <= 1) {
			return g, badRequest("top_p", "top_p must be between 0 and 1")
		}
		g.params.TopP = *p
	}
	if c.Seed != nil {
		g.params.Seed = uint64(*c.Seed)
	} else {
		g.params.Seed = rand.Uint64()
	}
	stops, err := parseStop(c.Stop)
	if err != nil {
		return g, err
	}
	g.stops = stops
	if g.logits, err = c.parseLogitParams(eng.ValidToken); err != nil {
		return g, err
	}
	g.stream = c.Stream != nil && *c.Stream
	if o := c.StreamOptions; o != nil && o.IncludeUsage != nil {
		g.includeUsage = *o.IncludeUsage
	}
	return g, nil
}

// parseStop accepts null, a string or an array of strings.
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if isNull(raw) {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, badRequest("stop", "invalid type for 'stop': expected a string or an array of strings")
	}
	if len(many) > maxStops {
		return nil, badRequest("stop", fmt.Sprintf("at most %d stop sequences are allowed", maxStops))
	}
	out := many[:0]
	for _, s := range many {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// chatMessages flattens the request's messages to text.
func (c *chatRequest) chatMessages() ([]ChatMessage, *apiError) {
	if len(c.Messages) == 0 {
		return nil, badRequest("messages", "messages must be a non-empty array")
	}
	msgs := make([]ChatMessage, len(c.Messages))
	for i, m := range c.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case "system", "user", "assistant", "tool":
		case "developer":
			m.Role = "system"
		case "":
			return nil, badRequest(param+".role", "every message needs a role")
		default:
			return nil, badRequest(param+".role", fmt.Sprintf("unsupported role '%s' (use system, developer, user, assistant or tool)", m.Role))
		}
		text, err := messageText(m.Content, param+".content")
		if err == nil {
			text, err = toolMessage(m, param, text)
		}
		if err != nil {
			return nil, err
		}
		msgs[i] = ChatMessage{Role: m.Role, Content: text}
	}
	return msgs, nil
}

// messageText accepts content as a string, null, or an array of text parts.
func messageText(raw json.RawMessage, param string) (string, *apiError) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []contentPart
	if json.Unmarshal(raw, &parts) != nil {
		return "", badRequest(param, "invalid type for '"+param+"': expected a string or an array of content parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", badRequest(param, fmt.Sprintf("unsupported content part type '%s': only text is supported", p.Type))
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}

// promptTokens accepts a completion prompt as a string, an array holding one
// string, or an array of token ids. Text is tokenized by encode.
func (c *completionRequest) promptTokens(eng Engine, encode func(string) ([]int32, *apiError)) ([]int32, *apiError) {
	if isNull(c.Prompt) {
		return nil, badRequest("prompt", "prompt is required")
	}
	var s string
	if json.Unmarshal(c.Prompt, &s) == nil {
		return encode(s)
	}
	var ss []string
	if json.Unmarshal(c.Prompt, &ss) == nil {
		if len(ss) != 1 {
			return nil, badRequest("prompt", "exactly one prompt per request is supported")
		}
		return encode(ss[0])
	}
	var ids []int64
	if json.Unmarshal(c.Prompt, &ids) == nil {
		toks := make([]int32, len(ids))
		for i, id := range ids {
			if id < 0 || id > 1<<31-1 || !eng.ValidToken(int32(id)) {
				return nil, badRequest("prompt", fmt.Sprintf("prompt[%d] = %d is not a token of this model's vocabulary", i, id))
			}
			toks[i] = int32(id)
		}
		return toks, nil
	}
	var nested []json.RawMessage
	if json.Unmarshal(c.Prompt, &nested) == nil && len(nested) > 1 {
		return nil, badRequest("prompt", "exactly one prompt per request is supported")
	}
	return nil, badRequest("prompt", "invalid type for 'prompt': expected a string, an array of one string, or an array of token ids")
}

// logprobs reads logprobs and top_logprobs of a chat request: the number
// of alternatives per token, or -1 for none.
func (c *chatRequest) logprobs(eng Engine) (int, *apiError) {
	on := c.Logprobs != nil && *c.Logprobs
	if c.TopLogprobs != nil {
		if !on {
			return -1, badRequest("top_logprobs", "top_logprobs needs logprobs: true")
		}
		if *c.TopLogprobs < 0 || *c.TopLogprobs > maxTopLogprobsChat {
			return -1, badRequest("top_logprobs", fmt.Sprintf("top_logprobs must be between 0 and %d", maxTopLogprobsChat))
		}
	}
	if !on {
		return -1, nil
	}
	if _, ok := eng.(TokenPiecer); !ok {
		return -1, badRequest("logprobs", "logprobs are not available with this model engine")
	}
	if c.TopLogprobs != nil {
		return *c.TopLogprobs, nil
	}
	return 0, nil
}

// logprobs reads the logprobs field of a completion request: the number of
// alternatives per token, the sampled token's own logprob always included.
func (c *completionRequest) logprobs(eng Engine) (int, *apiError) {
	if c.Logprobs == nil {
		return -1, nil
	}
	if *c.Logprobs < 0 || *c.Logprobs > maxTopLogprobsCompletion {
		return -1, badRequest("logprobs", fmt.Sprintf("logprobs must be between 0 and %d", maxTopLogprobsCompletion))
	}
	if _, ok := eng.(TokenPiecer); !ok {
		return -1, badRequest("logprobs", "logprobs are not available with this model engine")
	}
	return *c.Logprobs, nil
}

// unsupported rejects completion options this server does not implement,
// rather than silently ignoring what the client asked for.
func (c *completionRequest) unsupported() *apiError {
	switch {
	case c.Echo != nil && *c.Echo:
		return badRequest("echo", "echo is not supported")
	case c.BestOf != nil && *c.BestOf > 1:
		return badRequest("best_of", "only best_of=1 is supported")
	case c.Suffix != nil && *c.Suffix != "":
		return badRequest("suffix", "suffix is not supported")
	}
	return nil
}
