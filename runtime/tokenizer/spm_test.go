package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// spm512 is the golden models' SentencePiece vocabulary (testdata).
func spm512(t testing.TB) *Tokenizer {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", spmVocabFile))
	if err != nil {
		t.Fatal(err)
	}
	var v spmVocabJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	tok, err := New(Vocab{
		Model: ModelSPM, Tokens: v.Tokens, Scores: v.Scores, Types: v.Types,
		BOS: 1, EOS: 2, UNK: 0, EOT: NoToken, EOM: NoToken, PAD: NoToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSPMCorpusMatchesSentencePiece compares Encode on the corpus with
// SentencePiece's own encoder (testdata/spm-corpus.cjs) for the same model.
func TestSPMCorpusMatchesSentencePiece(t *testing.T) {
	tok := spm512(t)
	raw, err := os.ReadFile(filepath.Join("testdata", "spm-corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Cases []struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	matched := 0
	for i, cs := range c.Cases {
		got := tok.Encode(cs.Text, false, false)
		if slices.Equal(got, cs.IDs) {
			matched++
		} else {
			t.Errorf("case %d %q:\n got %v\nwant %v", i, cs.Text, got, cs.IDs)
		}
	}
	t.Logf("%d/%d corpus strings match SentencePiece", matched, len(c.Cases))
}
