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
	pieces  piecer // renders logprobs; its TokenPiecer is nil without them
	tools   bool   // tool calls may come (tools.go)
	forced  bool   // the reply is tool calls
}

func (s *Server) newFormat(chat bool) format {
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	tp, _ := s.eng.(TokenPiecer)
	return format{
		chat:    chat,
		id:      fmt.Sprintf("%s%016x%08x", prefix, rand.Uint64(), rand.Uint32()),
		created: time.Now().Unix(),
		model:   s.cfg.ModelID,
		pieces:  piecer{tp},
	}
}

// choiceResult is one finished choice of a non-streamed response.
type choiceResult struct {
	text     string
	reason   string
	lps      []tokenLogprob
	logprobs bool // the request asked for them
}

// full is the non-streamed response.
func (f format) full(choices []choiceResult, u Usage) any {
	if f.chat {
		cc := make([]chatChoice, len(choices))
		for i, c := range choices {
			if f.tools && (f.forced || isCalls(c.text)) {
				// logprobs follow content, and a call reply has none:
				// null, as OpenAI's API gives.
				cc[i] = f.callsChoice(i, c.text, c.reason)
				continue
			}
			cc[i] = chatChoice{Index: i, Message: chatMessageOut{Role: "assistant", Content: &c.text}, FinishReason: c.reason}
			if c.logprobs {
				cc[i].Logprobs = f.pieces.chat(c.lps)
			}
		}
		return chatCompletion{ID: f.id, Object: "chat.completion", Created: f.created, Model: f.model, Choices: cc, Usage: u}
	}
	tc := make([]textChoice, len(choices))
	for i, c := range choices {
		tc[i] = textChoice{Text: c.text, Index: i, FinishReason: &c.reason}
		if c.logprobs {
			tc[i].Logprobs, _ = f.pieces.text(c.lps, 0)
		}
	}
	return textCompletion{ID: f.id, Object: "text_completion", Created: f.created, Model: f.model, Choices: tc, Usage: &u}
}

// opening is the first stream event of choice i, or nil: chat streams
// announce the assistant's role before any content, as OpenAI's do.
func (f format) opening(i int) any {
	if !f.chat {
		return nil
	}
	empty := ""
	return f.chatChunk(i, chatDelta{Role: "assistant", Content: &empty}, nil, nil)
}

// streamChoice is what a stream keeps per choice between events.
type streamChoice struct {
	logprobs bool // the request asked for them
	offset   int  // text_offset of the next token (completions)
}

// delta is a stream event carrying new text of choice i and, when asked
// for, the logprobs of the tokens sampled since the last event.
func (f format) delta(i int, c *streamChoice, text string, lps []tokenLogprob) any {
	if f.chat {
		var lp *chatLogprobs
		if c.logprobs {
			lp = f.pieces.chat(lps)
		}
		return f.chatChunk(i, chatDelta{Content: &text}, lp, nil)
	}
	var lp *textLogprobs
	if c.logprobs {
		lp, c.offset = f.pieces.text(lps, c.offset)
	}
	return f.textChunk(i, text, lp, nil)
}

// end is the stream event that carries choice i's finish reason.
func (f format) end(i int, reason string) any {
	if f.chat {
		return f.chatChunk(i, chatDelta{}, nil, &reason)
	}
	return f.textChunk(i, "", nil, &reason)
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

func (f format) chatChunk(i int, d chatDelta, lp *chatLogprobs, reason *string) chatChunk {
	return chatChunk{ID: f.id, Object: "chat.completion.chunk", Created: f.created, Model: f.model,
		Choices: []chatChunkChoice{{Index: i, Delta: d, Logprobs: lp, FinishReason: reason}}}
}

func (f format) textChunk(i int, text string, lp *textLogprobs, reason *string) textCompletion {
	return textCompletion{ID: f.id, Object: "text_completion", Created: f.created, Model: f.model,
		Choices: []textChoice{{Text: text, Index: i, Logprobs: lp, FinishReason: reason}}}
}
