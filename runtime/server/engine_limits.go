package server

// MaxTokenBytes implements TokenBounder: the longest token of the model's
// vocabulary, in bytes.
func (e *RuntimeEngine) MaxTokenBytes() int { return e.tok.MaxTokenBytes() }
