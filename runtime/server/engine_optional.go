package server

// Optional Engine methods. The server asks for them with a type assertion,
// so an Engine without them still serves; what it then cannot do is
// refused with a 400 naming the field, or done the slower way.

// TokenPiecer gives the bytes a token stands for (special tokens as their
// text), which logprobs report per token. Safe for concurrent use.
type TokenPiecer interface {
	TokenBytes(id int32) []byte
}

// PrefixCopier copies the first n positions of slot src's KV cache into
// slot dst, replacing what dst held, so that the choices of a request with
// n > 1 read their common prompt once. Called from the scheduler's
// goroutine, like Step and Free. Without it every choice reads the prompt
// itself.
type PrefixCopier interface {
	CopyPrefix(dst, src, n int) error
}

// Describer tells /props about the model behind an Engine.
type Describer interface {
	Describe() ModelInfo
}

// ModelInfo is what /props reports about the model.
type ModelInfo struct {
	Path         string // the GGUF file
	ChatTemplate string // the Jinja template from the file's metadata, if any
	ChatFormat   string // the chat format in use ("llama3", "chatml", …)
	BOS, EOS     string // the text of the BOS and EOS tokens
}
