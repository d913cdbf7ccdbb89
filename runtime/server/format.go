package server

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// format shapes one request's output as a chat or a text completion.
type format struct {
	chat    bool
	id      string
	created int64
	model   string
	tools   bool // tool calls may come (tools.go)
	forced  bool // the reply is tool calls
}

func (s *Server) newFormat(chat bool) format {
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	return format{
		chat:    chat,
		id:      fmt.Sprintf("%s%016x%08x", prefix, rand.Uint64(), rand.Uint32()),
		created: time.Now().Unix(),
		model:   s.cfg.ModelID,
	}
}

// full is the non-streamed response.
func (f format) full(text, reason string, u Usage) any {
	if f.tools && (f.forced || isCalls(text)) {
		return f.fullCalls(text, reason, u)
	}
	if f.chat {
		return chatCompletion{
			ID: f.id, Object: "chat.completion", Created: f.created, Model: f.model,
			Choices: []chatChoice{{Message: chatMessageOut{Role: "assistant", Content: &text}, FinishReason: reason}},
			Usage:   u,
		}
	}
	return textCompletion{
		ID: f.id, Object: "text_completion", Created: f.created, Model: f.model,
		Choices: []textChoice{{Text: text, FinishReason: &reason}},
		Usage:   &u,
	}
}

// opening is the first stream event, or nil: chat streams announce the
// assistant's role before any content, as OpenAI's do.
func (f format) opening() any {
	if !f.chat {
		return nil
	}
	empty := ""
	return f.chatChunk(chatDelta{Role: "assistant", Content: &empty}, nil)
}

// delta is a stream event carrying new text.
func (f format) delta(text string) any {
	if f.chat {
		return f.chatChunk(chatDelta{Content: &text}, nil)
	}
	return f.textChunk(text, nil)
}

// end is the stream event that carries the finish reason.
func (f format) end(reason string) any {
	if f.chat {
		return f.chatChunk(chatDelta{}, &reason)
	}
	return f.textChunk("", &reason)
}

// usage is the extra last event of stream_options.include_usage: no
// choices, only the counts.
func (f format) usage(u Usage) any {
	if f.chat {
		return chatChunk{ID: f.id, Object: "chat.completion.chunk", Created: f.created, Model: f.model,
			Choices: []chatChunkChoice{}, Usage: &u}
	}
	return textCompletion{ID: f.id, Object: "text_completion", Created: f.created, Model: f.model,
		Choices: []textChoice{}, Usage: &u}
}

func (f format) chatChunk(d chatDelta, reason *string) chatChunk {
	return chatChunk{ID: f.id, Object: "chat.completion.chunk", Created: f.created, Model: f.model,
		Choices: []chatChunkChoice{{Delta: d, FinishReason: reason}}}
}

func (f format) textChunk(text string, reason *string) textCompletion {
	return textCompletion{ID: f.id, Object: "text_completion", Created: f.created, Model: f.model,
		Choices: []textChoice{{Text: text, FinishReason: reason}}}
}
