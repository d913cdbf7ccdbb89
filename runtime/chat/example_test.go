package chat_test

import (
	"fmt"

	"github.com/bitnet-go/bitnet/runtime/chat"
)

func ExampleForModel() {
	// A BitNet b1.58 2B-4T GGUF as published carries bitnet.cpp's
	// converter template, a marker that means the model's own template.
	tmpl, err := chat.ForModel("... 'Human: ' + message['content'] + '\\n\\nBITNETAssistant: ' ...", "bitnet-b1.58", "ggml-model-i2_s.gguf")
	if err != nil {
		panic(err)
	}
	text, err := tmpl.Apply([]chat.Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: " Hello! "},
	}, true)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %q\n", tmpl.Name(), text)
	// Output:
	// bitnet: "System: You are a helpful assistant.<|eot_id|>User: Hello!<|eot_id|>Assistant: "
}
