package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// goldenDir is ../shared/golden relative to the repository root.
func goldenDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden data not available (%s): %v", dir, err)
	}
	return dir
}

type goldenPrompt struct {
	Text             string            `json:"text"`
	TokensWithBOS    []int32           `json:"tokens_with_bos"`
	TokensWithoutBOS []int32           `json:"tokens_without_bos"`
	BOS              int32             `json:"bos_id"`
	EOS              int32             `json:"eos_id"`
	NVocab           int               `json:"n_vocab"`
	PiecesHex        map[string]string `json:"pieces_hex"`
}

// TestGoldenPrompts checks the tokenizer built from each golden
// bitnetcpp-i2_s.gguf against bitnet.cpp's own llama_tokenize and
// llama_token_to_piece output for the same prompt.
func TestGoldenPrompts(t *testing.T) {
	dir := goldenDir(t)
	models, _ := filepath.Glob(filepath.Join(dir, "*", "prompt.json"))
	if len(models) == 0 {
		t.Skipf("no prompt.json under %s", dir)
	}
	for _, promptPath := range models {
		modelDir := filepath.Dir(promptPath)
		t.Run(filepath.Base(modelDir), func(t *testing.T) {
			raw, err := os.ReadFile(promptPath)
			if err != nil {
				t.Fatal(err)
			}
			var p goldenPrompt
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: %v", promptPath, err)
			}
			f, err := gguf.Open(filepath.Join(modelDir, "bitnetcpp-i2_s.gguf"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tok, err := FromGGUF(f)
			if err != nil {
				t.Fatal(err)
			}
			if tok.NumTokens() != p.NVocab || tok.BOS() != p.BOS || tok.EOS() != p.EOS {
				t.Errorf("vocab %d bos %d eos %d, want %d %d %d", tok.NumTokens(), tok.BOS(), tok.EOS(), p.NVocab, p.BOS, p.EOS)
			}
			if got := tok.Encode(p.Text, true, false); !slices.Equal(got, p.TokensWithBOS) {
				t.Errorf("with BOS:\n got %v\nwant %v", got, p.TokensWithBOS)
			}
			if got := tok.Encode(p.Text, false, false); !slices.Equal(got, p.TokensWithoutBOS) {
				t.Errorf("without BOS:\n got %v\nwant %v", got, p.TokensWithoutBOS)
			}
			for idStr, want := range p.PiecesHex {
				id, err := strconv.Atoi(idStr)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(tok.Piece(int32(id))); got != want {
					t.Errorf("piece %d = %s, want %s", id, got, want)
				}
			}
			// The streamed text is the prompt with SPM's space prefix.
			d := tok.NewDecoder()
			var s string
			for _, id := range p.TokensWithBOS {
				s += d.Next(id)
			}
			s += d.Flush()
			if s != " "+p.Text {
				t.Errorf("decoded %q, want %q", s, " "+p.Text)
			}
			if !tok.IsEOG(p.EOS) {
				t.Errorf("EOS %d is not end-of-generation", p.EOS)
			}
			checkGreedyPieces(t, tok, filepath.Join(modelDir, "greedy.json"))
		})
	}
}

// checkGreedyPieces compares the pieces of bitnet.cpp's greedy continuation
// (byte-fallback tokens with broken UTF-8 included) with Piece and Decode.
func checkGreedyPieces(t *testing.T, tok *Tokenizer, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Logf("no greedy.json: %v", err)
		return
	}
	var g struct {
		Tokens    []int32  `json:"tokens"`
		Text      string   `json:"text"`
		PiecesHex []string `json:"pieces_hex"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(g.Tokens) != len(g.PiecesHex) {
		t.Fatalf("%s: %d tokens, %d pieces", path, len(g.Tokens), len(g.PiecesHex))
	}
	for i, id := range g.Tokens {
		if got := hex.EncodeToString(tok.Piece(id)); got != g.PiecesHex[i] {
			t.Errorf("greedy token %d (%d): piece %s, want %s", i, id, got, g.PiecesHex[i])
		}
	}
	// greedy.json's text is the bytes decoded with each invalid byte as U+FFFD.
	if got := asDecoded(tok.Decode(g.Tokens)); got != g.Text {
		t.Errorf("greedy text %q, want %q", got, g.Text)
	}
}
