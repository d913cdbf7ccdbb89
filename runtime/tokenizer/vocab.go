package tokenizer

// TokenType is a token's kind as GGUF's tokenizer.ggml.token_type stores it.
type TokenType int32

// Token types (llama.cpp's LLAMA_TOKEN_TYPE_*).
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// NoToken marks a special token a vocabulary does not have.
const NoToken int32 = -1

// Model names as tokenizer.ggml.model spells them.
const (
	ModelSPM = "llama" // SentencePiece
	ModelBPE = "gpt2"  // byte-level BPE
)

// Vocab is a tokenizer in the plain form GGUF metadata carries it, so that
// tests and dummy-model generators can build a Tokenizer without a file.
type Vocab struct {
	// Model is ModelSPM or ModelBPE.
	Model string
	// Pre names the BPE pre-tokenizer (tokenizer.ggml.pre): "llama-bpe",
	// "llama3", "falcon3", "falcon_e", "gpt-2", "default", ... Empty and
	// "default" select Llama-3 splitting when the vocabulary has
	// <|begin_of_text|> (see New), else llama.cpp's default chain.
	// Ignored for SPM.
	Pre string
	// Tokens holds every token's text, indexed by id. BPE tokens are in
	// GPT-2's byte-to-unicode alphabet; SPM tokens use ▁ for spaces.
	Tokens []string
	// Scores are SPM merge priorities (higher merges first); nil means all 0.
	Scores []float32
	// Types are the token types; nil means every token is TypeNormal.
	Types []TokenType
	// Merges are BPE merge rules "left right", highest priority first.
	Merges []string
	// Special token ids; NoToken when absent. Zero is a valid id, so set
	// every field (FromGGUF applies llama.cpp's defaults for missing keys).
	BOS, EOS, EOT, EOM, UNK, PAD int32
	// EOG are more ids that end generation: generation_config.json's
	// eos_token_id list, which convert stores as tokenizer.ggml.eos_token_ids
	// (Llama3-8B-1.58 ends its replies with 128009, not its EOS 128001).
	EOG []int32
	// AddBOS, AddEOS and AddSpacePrefix override the model's defaults when
	// non-nil: SPM adds BOS and a space prefix; BPE adds BOS only with the
	// Llama-3 pre-tokenizer; nobody adds EOS.
	AddBOS, AddEOS, AddSpacePrefix *bool
	// ChatTemplate is tokenizer.chat_template, kept for runtime/chat.
	ChatTemplate string
}
