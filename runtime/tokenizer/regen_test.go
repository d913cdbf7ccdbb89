package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// spmVocabFile is the 512-token SentencePiece vocabulary of the golden
// models (testdata/README.md), kept here so SPM tests run without them.
const spmVocabFile = "spm512-vocab.json"

type spmVocabJSON struct {
	Source string      `json:"source"`
	Tokens []string    `json:"tokens"`
	Scores []float32   `json:"scores"`
	Types  []TokenType `json:"types"`
}

// TestRegenerateSPMVocab rewrites testdata/spm512-vocab.json from the golden
// bitnet-b158-tiny GGUF. It runs only with TOKENIZER_REGEN=1.
func TestRegenerateSPMVocab(t *testing.T) {
	if os.Getenv("TOKENIZER_REGEN") == "" {
		t.Skip("set TOKENIZER_REGEN=1 to rewrite testdata/" + spmVocabFile)
	}
	path := filepath.Join(goldenDir(t), "bitnet-b158-tiny", "bitnetcpp-i2_s.gguf")
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := VocabFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(spmVocabJSON{Source: "shared/golden/bitnet-b158-tiny/bitnetcpp-i2_s.gguf", Tokens: v.Tokens, Scores: v.Scores, Types: v.Types})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", spmVocabFile), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
