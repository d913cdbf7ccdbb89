package chat

import (
	"strings"
	"testing"
)

// FuzzDetect recognises a model's tokenizer.chat_template, whatever its
// text, and applies the chosen format: no panic, and every message's
// content reaches the prompt.
func FuzzDetect(f *testing.F) {
	f.Add("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}", "bitnet-b1.58")
	f.Add("<|start_header_id|>user<|end_header_id|>", "llama")
	f.Add("llama3", "bitnet")
	f.Add("", "bitnet-25")
	f.Add("<|assistant|><|user|><|end|>", "")
	f.Fuzz(func(t *testing.T, tmpl, arch string) {
		ct := Detect(tmpl, arch)
		msgs := []Message{{Role: "system", Content: "S1"}, {Role: "user", Content: "U2"}, {Role: "assistant", Content: "A3"}, {Role: "user", Content: "U4"}}
		out := ct.Apply(msgs, true)
		for _, m := range msgs {
			if !strings.Contains(out, m.Content) {
				t.Fatalf("format %s dropped %q: %q", ct.Name(), m.Content, out)
			}
		}
	})
}
