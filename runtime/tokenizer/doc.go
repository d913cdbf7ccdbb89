// Package tokenizer turns text into token ids and back, the way bitnet.cpp's
// llama.cpp fork does for the vocabularies BitNet models ship with:
//
//   - SentencePiece ("llama" in GGUF): bigram merges ranked by token score,
//     byte fallback to <0xNN> tokens, a space prefix, spaces written as ▁.
//   - Byte-level BPE ("gpt2" in GGUF): a hand-written pre-tokenizer (Llama-3,
//     GPT-2, Falcon3/Falcon-E, and llama.cpp's default chain) followed by
//     rank-ordered merges over GPT-2's byte-to-unicode alphabet.
//
// Special tokens (control and user-defined) are cut out of the text as whole
// strings before either algorithm runs, longest first, exactly as libllama's
// tokenizer_st_partition does; control tokens only when parseSpecial is set.
//
// A Tokenizer is immutable after construction and safe for concurrent use.
package tokenizer
