package chat

import (
	"strings"
	"testing"
)

// FuzzForModel loads a model's tokenizer.chat_template, whatever its text,
// as a model load does, and renders a conversation with it: no panic, a
// template either compiles or fails with an error naming its origin, and
// the formats chosen without a template (none, or bitnet.cpp's marker)
// carry every message's content into the prompt.
func FuzzForModel(f *testing.F) {
	f.Add("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}", "bitnet-b1.58")
	f.Add("<|start_header_id|>user<|end_header_id|>", "llama")
	f.Add("llama3", "bitnet")
	f.Add("", "bitnet-25")
	f.Add("<|assistant|><|user|><|end|>", "")
	f.Add("{{ raise_exception('no') }}", "llama")
	f.Add("{% for m in messages %}{{ m.content | trim }}{% endfor %", "llama")
	f.Fuzz(func(t *testing.T, tmpl, arch string) {
		ct, err := ForModel(tmpl, arch, "fuzz.gguf")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.gguf") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		msgs := []Message{{Role: "system", Content: "S1"}, {Role: "user", Content: "U2"}, {Role: "assistant", Content: "A3"}, {Role: "user", Content: "U4"}}
		out, err := ct.Apply(msgs, true)
		if err != nil || !(IsMarker(tmpl) || strings.TrimSpace(tmpl) == "") {
			return // a template may raise or drop what it likes
		}
		for _, m := range msgs {
			if !strings.Contains(out, m.Content) {
				t.Fatalf("built-in format for %q dropped %q: %q", arch, m.Content, out)
			}
		}
	})
}
