package chat

import "github.com/bitnet-go/bitnet/runtime/tokenizer"

// ForTokenizer is ForModel for a loaded vocabulary: the template of its
// tokenizer.chat_template (or the built-in format ForModel picks), or the
// --chat-template override when that is not empty, rendering bos_token and
// eos_token as the vocabulary spells them. origin names the model file in
// errors.
func ForTokenizer(tok *tokenizer.Tokenizer, arch, origin, override string) (Template, error) {
	var (
		t   Template
		err error
	)
	if override != "" {
		t, err = Override(override)
	} else {
		t, err = ForModel(tok.ChatTemplate(), arch, origin)
	}
	if err != nil {
		return Template{}, err
	}
	return t.WithTokens(tok.Token(tok.BOS()), tok.Token(tok.EOS())), nil
}

// Tokens tokenizes a rendered conversation as the model sees it: special
// token texts become their tokens, and BOS leads where the vocabulary adds
// one, exactly once whether or not the template wrote {{ bos_token }}
// (transformers tokenizes such text without adding specials; llama.cpp
// drops the duplicate in the same way).
func Tokens(tok *tokenizer.Tokenizer, text string) []int32 {
	return dropDuplicateBOS(tok, tok.Encode(text, true, true))
}

// TokensLimit is Tokens that stops soon after the tokens pass limit, as
// tokenizer.EncodeLimit does, and then reports ok false.
func TokensLimit(tok *tokenizer.Tokenizer, text string, limit int) (ids []int32, ok bool) {
	// One more, for the duplicate BOS that may be dropped.
	ids, _ = tok.EncodeLimit(text, true, true, limit+1)
	ids = dropDuplicateBOS(tok, ids)
	return ids, len(ids) <= limit
}

func dropDuplicateBOS(tok *tokenizer.Tokenizer, ids []int32) []int32 {
	if bos := tok.BOS(); tok.AddBOS() && bos != tokenizer.NoToken && len(ids) >= 2 && ids[0] == bos && ids[1] == bos {
		ids = ids[1:]
	}
	return ids
}
