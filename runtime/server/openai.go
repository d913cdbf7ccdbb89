package server

import "encoding/json"

// Request and response bodies of the OpenAI API, as far as this server
// implements it. Optional request fields are pointers so that an absent or
// null field is told apart from a zero one.

// commonRequest holds the fields /v1/chat/completions and /v1/completions
// share.
type commonRequest struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	Seed          *int64          `json:"seed"`
	Stop          json.RawMessage `json:"stop"`
	N             *int            `json:"n"`
	Stream        *bool           `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`

	// MaxCompletionTokens is OpenAI's newer name for max_tokens; it wins
	// when both are given.
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	// User identifies the end user to OpenAI's abuse monitoring; it has no
	// effect on generation by definition, and is accepted for that reason.
	User *string `json:"user"`

	// Logit processing (logits.go): OpenAI's fields and llama-server's
	// extensions.
	LogitBias        json.RawMessage `json:"logit_bias"`
	FrequencyPenalty *float64        `json:"frequency_penalty"`
	PresencePenalty  *float64        `json:"presence_penalty"`
	RepeatPenalty    *float64        `json:"repeat_penalty"`
	RepeatLastN      *int            `json:"repeat_last_n"`
	TopK             *int            `json:"top_k"`
	MinP             *float64        `json:"min_p"`

	// ResponseFormat is served by constrained sampling (structured.go).
	ResponseFormat json.RawMessage `json:"response_format"`
}

type streamOptions struct {
	IncludeUsage *bool `json:"include_usage"`
}

type chatRequest struct {
	commonRequest
	Messages    []chatMessageIn `json:"messages"`
	Logprobs    *bool           `json:"logprobs"`
	TopLogprobs *int            `json:"top_logprobs"`
	// Tools (tools.go).
	Tools             json.RawMessage `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
}

type chatMessageIn struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	ToolCalls  []toolCallIn    `json:"tool_calls"`   // assistant messages
	ToolCallID *string         `json:"tool_call_id"` // tool messages
}

// contentPart is one element of a message's content given as an array.
type contentPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

type completionRequest struct {
	commonRequest
	Prompt   json.RawMessage `json:"prompt"`
	Logprobs *int            `json:"logprobs"`
	Echo     *bool           `json:"echo"`
	BestOf   *int            `json:"best_of"`
	Suffix   *string         `json:"suffix"`
}

// Usage counts a request's tokens. CompletionTokens counts every sampled
// token, the end-of-generation token included.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "chat.completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []chatChoice `json:"choices"`
	Usage   Usage        `json:"usage"`
}

type chatChoice struct {
	Index        int            `json:"index"`
	Message      chatMessageOut `json:"message"`
	Logprobs     *chatLogprobs  `json:"logprobs"`
	FinishReason string         `json:"finish_reason"`
}

type chatMessageOut struct {
	Role      string        `json:"role"`
	Content   *string       `json:"content"` // null when the reply is tool calls
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
}

type chatChunk struct {
	ID      string            `json:"id"`
	Object  string            `json:"object"` // "chat.completion.chunk"
	Created int64             `json:"created"`
	Model   string            `json:"model"`
	Choices []chatChunkChoice `json:"choices"`
	Usage   *Usage            `json:"usage,omitempty"`
}

type chatChunkChoice struct {
	Index        int           `json:"index"`
	Delta        chatDelta     `json:"delta"`
	Logprobs     *chatLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type chatDelta struct {
	Role      string        `json:"role,omitempty"`
	Content   *string       `json:"content,omitempty"`
	ToolCalls []toolCallOut `json:"tool_calls,omitempty"`
}

// textCompletion is both the /v1/completions response and its stream
// chunks, as in OpenAI's API.
type textCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "text_completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []textChoice `json:"choices"`
	Usage   *Usage       `json:"usage,omitempty"`
}

type textChoice struct {
	Text         string        `json:"text"`
	Index        int           `json:"index"`
	Logprobs     *textLogprobs `json:"logprobs"`
	FinishReason *string       `json:"finish_reason"`
}

type modelList struct {
	Object string       `json:"object"` // "list"
	Data   []modelEntry `json:"data"`
}

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}
