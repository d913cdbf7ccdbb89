package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// bitnet is BitNet b1.58 2B-4T's format:
//
//	System: {sys}User: {msg}<|eot_id|>Assistant: {reply}<|eot_id|>User: ...
//
// bitnet.cpp's llama_chat_apply_template ("BITNET" in the template) writes
// the same text except that it closes assistant turns with nothing; the
// model itself ends its replies with <|eot_id|>, so a conversation replayed
// from history carries it here, matching the token stream of a live chat
// and the model's Hugging Face template.
var bitnet = Template{
	name:  "bitnet",
	stops: []string{"<|eot_id|>"},
	render: func(b *strings.Builder, msgs []Message, addAssistant bool) {
		for _, m := range msgs {
			switch m.Role {
			case "system":
				b.WriteString("System: ")
				b.WriteString(m.Content)
			case "user":
				b.WriteString("User: ")
				b.WriteString(m.Content)
				b.WriteString("<|eot_id|>")
			case "assistant":
				b.WriteString("Assistant: ")
				b.WriteString(m.Content)
				b.WriteString("<|eot_id|>")
			default:
				b.WriteString(capitalize(m.Role))
				b.WriteString(": ")
				b.WriteString(m.Content)
				b.WriteString("<|eot_id|>")
			}
		}
		if addAssistant {
			b.WriteString("Assistant: ")
		}
	},
}

// llama3 is Llama 3's header format; contents are trimmed as libllama does.
var llama3 = Template{
	name:  "llama3",
	stops: []string{"<|eot_id|>"},
	render: func(b *strings.Builder, msgs []Message, addAssistant bool) {
		for _, m := range msgs {
			b.WriteString("<|start_header_id|>")
			b.WriteString(m.Role)
			b.WriteString("<|end_header_id|>\n\n")
			b.WriteString(strings.TrimSpace(m.Content))
			b.WriteString("<|eot_id|>")
		}
		if addAssistant {
			b.WriteString("<|start_header_id|>assistant<|end_header_id|>\n\n")
		}
	},
}

// falcon3 is Falcon 3's format: <|role|>\n{content}\n per turn. The model
// ends its replies with its EOS token.
var falcon3 = Template{
	name:   "falcon3",
	stops:  []string{"<|user|>"},
	render: turns("<|", "|>\n", "\n", "<|assistant|>\n"),
}

// falconE is bitnet.cpp's "falcon_e" format ({role}{content}\n per turn).
// libllama never detects it from a template text, so it is chosen by name.
var falconE = Template{
	name:   "falcon_e",
	render: turns("", "", "\n", "assistant\n"),
}

// phi3 is Phi 3's format: <|role|>\n{content}<|end|>\n per turn.
var phi3 = Template{
	name:   "phi3",
	stops:  []string{"<|end|>"},
	render: turns("<|", "|>\n", "<|end|>\n", "<|assistant|>\n"),
}

// zephyr is Zephyr's format: <|role|>\n{content}<|endoftext|>\n per turn.
var zephyr = Template{
	name:   "zephyr",
	stops:  []string{"<|endoftext|>"},
	render: turns("<|", "|>\n", "<|endoftext|>\n", "<|assistant|>\n"),
}

// chatML is the fallback: <|im_start|>{role}\n{content}<|im_end|>\n.
var chatML = Template{
	name:   "chatml",
	stops:  []string{"<|im_end|>"},
	render: turns("<|im_start|>", "\n", "<|im_end|>\n", "<|im_start|>assistant\n"),
}

// turns renders each message as open+role+mid+content+end and, when a
// reply is asked for, then assistant: the shape most chat formats share.
func turns(open, mid, end, assistant string) func(*strings.Builder, []Message, bool) {
	return func(b *strings.Builder, msgs []Message, addAssistant bool) {
		for _, m := range msgs {
			b.WriteString(open)
			b.WriteString(m.Role)
			b.WriteString(mid)
			b.WriteString(m.Content)
			b.WriteString(end)
		}
		if addAssistant {
			b.WriteString(assistant)
		}
	}
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
