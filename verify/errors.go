package verify

import "fmt"

// TokenError reports a token id outside the model's vocabulary.
type TokenError struct {
	Pos   int
	ID    int32
	Vocab int
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("token %d at position %d is outside the vocabulary of %d", e.ID, e.Pos, e.Vocab)
}
