package chat_test

import (
	"fmt"

	"github.com/bitnet-go/bitnet/runtime/chat"
)

func ExampleDetect() {
	// A GGUF of BitNet b1.58 2B-4T without a recognizable template.
	tmpl := chat.Detect("", "bitnet-b1.58")
	fmt.Printf("%q\n", tmpl.Apply([]chat.Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "Hello!"},
	}, true))
	// Output:
	// "System: You are a helpful assistant.User: Hello!<|eot_id|>Assistant: "
}
