package chat

import "fmt"

// builtins are the named formats, each a Jinja source rendered by the same
// engine as a model's own template, so that a GGUF carrying one of these
// sources (bitnet dummy writes them) renders exactly as the name does.
var builtins = []struct {
	name, source string
	stops        []string // when the source does not spell the turn end out
}{
	// BitNet b1.58 2B-4T's own template, from microsoft/bitnet-b1.58-2B-4T's
	// tokenizer_config.json (FORMATS.md §7): every turn "Role: content"
	// with the content trimmed and closed by <|eot_id|>. BOS comes from
	// the tokenizer. (bitnet.cpp's C++ rendering leaves the system turn
	// unclosed and untrimmed; that is its quirk, not the model's format.)
	{"bitnet", "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}", nil},
	// Llama 3 Instruct's header format, content trimmed; BOS from the
	// tokenizer.
	{"llama3", "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}", nil},
	// Falcon 3: <|role|>\n{content}\n per turn (bitnet.cpp's rendering; the
	// model ends its replies with its EOS token).
	{"falcon3", "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}", []string{"<|user|>"}},
	// bitnet.cpp's "falcon_e": {role}{content}\n per turn.
	{"falcon_e", "{% for message in messages %}{{ message['role'] + message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant\\n' }}{% endif %}", nil},
	// Phi 3: <|role|>\n{content}<|end|>\n per turn.
	{"phi3", "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}", nil},
	// Zephyr: <|role|>\n{content}<|endoftext|>\n per turn.
	{"zephyr", "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|endoftext|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}", nil},
	// ChatML, libllama's fallback: <|im_start|>{role}\n{content}<|im_end|>\n.
	{"chatml", "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", nil},
}

// compiledBuiltins holds the built-in formats compiled once; they are
// constants, so a failure is a bug caught by any test.
var compiledBuiltins = func() map[string]*compiled {
	m := make(map[string]*compiled, len(builtins))
	for _, b := range builtins {
		t, err := compile(b.name, b.source)
		if err != nil {
			panic(fmt.Sprintf("built-in chat format %s: %v", b.name, err))
		}
		m[b.name] = &compiled{name: b.name, builtin: true, source: b.source, tmpl: t, stops: b.stops}
	}
	return m
}()

func chatML() *compiled { return compiledBuiltins["chatml"] }

// Named returns the built-in format called name.
func Named(name string) (Template, bool) {
	c, ok := compiledBuiltins[name]
	if !ok {
		return Template{}, false
	}
	return Template{c}, true
}

// Names lists the built-in formats.
func Names() []string {
	names := make([]string, len(builtins))
	for i, b := range builtins {
		names[i] = b.name
	}
	return names
}
