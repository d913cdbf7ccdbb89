// Package chat renders conversations into prompt text with the chat formats
// BitNet models use. There is no Jinja engine: like libllama's
// llama_chat_apply_template, a model's tokenizer.chat_template is
// recognized by distinctive substrings and mapped to a built-in format.
//
// The rendered text carries no BOS; tokenize it with the model's tokenizer
// with addSpecial (BOS) and parseSpecial (so "<|eot_id|>" and friends become
// their tokens) both set.
package chat

import (
	"slices"
	"strings"
)

// Message is one turn of a conversation. Role is "system", "user" or
// "assistant" (other roles are rendered as the format allows).
type Message struct {
	Role    string
	Content string
}

// Template is a built-in chat format.
type Template struct {
	name   string
	render func(b *strings.Builder, msgs []Message, addAssistant bool)
	stops  []string
}

// Name is the format's name: "bitnet", "llama3", "falcon3", "falcon_e",
// "phi3", "zephyr" or "chatml".
func (t Template) Name() string {
	if t.render == nil {
		return chatML.name
	}
	return t.name
}

// Apply renders msgs. With addAssistant the text ends with the opening of
// an assistant turn, so that the model's continuation is the reply.
func (t Template) Apply(msgs []Message, addAssistant bool) string {
	if t.render == nil {
		t = chatML // the zero Template behaves as libllama's fallback
	}
	var b strings.Builder
	t.render(&b, msgs, addAssistant)
	return b.String()
}

// Stops returns the texts that close an assistant turn in this format.
// Generation normally stops on the tokenizer's end-of-generation tokens;
// these strings are for vocabularies where the marker is not one token and
// for servers that cut the reply text.
func (t Template) Stops() []string {
	if t.render == nil {
		t = chatML
	}
	return slices.Clone(t.stops)
}

var templates = []Template{bitnet, llama3, falcon3, falconE, phi3, zephyr, chatML}

// Named returns the built-in format called name.
func Named(name string) (Template, bool) {
	for _, t := range templates {
		if t.name == name {
			return t, true
		}
	}
	return Template{}, false
}

// Names lists the built-in formats.
func Names() []string {
	names := make([]string, len(templates))
	for i, t := range templates {
		names[i] = t.name
	}
	return names
}

// Detect picks the format for a model from its tokenizer.chat_template
// (tmpl, which may also be a format name) and its general.architecture.
// The substring tests and their order are libllama's; a template nobody
// recognizes, or none at all, gets the BitNet b1.58 format for the bitnet
// b1.58 architectures and ChatML otherwise (libllama's fallback).
func Detect(tmpl, arch string) Template {
	if t, ok := Named(tmpl); ok {
		return t
	}
	has := func(s string) bool { return strings.Contains(tmpl, s) }
	switch {
	case has("<|im_start|>"):
		return chatML
	case has("<|assistant|>") && has("<|end|>"):
		return phi3
	case has("<|assistant|>") && has("<|user|>"):
		return falcon3
	case has("<|user|>"):
		return zephyr
	case has("<|start_header_id|>") && has("<|end_header_id|>"):
		return llama3
	case has("BITNET"):
		return bitnet
	}
	switch arch {
	case "bitnet-b1.58", "bitnet-25":
		return bitnet
	}
	return chatML
}
