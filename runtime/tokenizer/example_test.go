package tokenizer_test

import (
	"fmt"

	"github.com/bitnet-go/bitnet/runtime/tokenizer"
)

// A SentencePiece vocabulary built from plain data: characters without a
// token fall back to byte tokens, and a streaming Decoder holds back the
// bytes of a character until it is complete.
func ExampleTokenizer_NewDecoder() {
	v := tokenizer.Vocab{
		Model:  tokenizer.ModelSPM,
		Tokens: []string{"<unk>", "<s>", "</s>", "▁", "h", "i", "hi", "▁hi"},
		Scores: []float32{0, 0, 0, -1, -2, -2, -1.5, -1},
		Types: []tokenizer.TokenType{tokenizer.TypeUnknown, tokenizer.TypeControl, tokenizer.TypeControl,
			tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal, tokenizer.TypeNormal},
		BOS: 1, EOS: 2, UNK: 0, EOT: tokenizer.NoToken, EOM: tokenizer.NoToken, PAD: tokenizer.NoToken,
	}
	for b := 0; b < 256; b++ {
		v.Tokens = append(v.Tokens, fmt.Sprintf("<0x%02X>", b))
		v.Scores = append(v.Scores, 0)
		v.Types = append(v.Types, tokenizer.TypeByte)
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("hi ✓", true, false)
	fmt.Println(ids)
	d := tok.NewDecoder()
	for _, id := range ids {
		fmt.Printf("%q ", d.Next(id))
	}
	fmt.Printf("%q\n", d.Flush())
	// Output:
	// [1 7 3 234 164 155]
	// "" " hi" " " "" "" "✓" ""
}
