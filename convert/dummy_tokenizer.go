package convert

import (
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// The dummy models carry a small, real byte-level BPE tokenizer (GPT-2 byte
// alphabet, Llama-3 pre-tokenizer, merges learned from the text below), so
// that a dummy GGUF tokenizes, runs and detokenizes like a real model.

// dummyCorpus is what the built-in tokenizer's merges are learned from.
const dummyCorpus = `The model reads a prompt, turns it into tokens, and predicts the next token
again and again until it reaches the end of the text. Each token is a small piece
of a word: common words are a single token, and rare words are split into several
pieces. A ternary model stores every weight of its linear layers as minus one, zero
or plus one, together with one scale for the whole tensor, so that a matrix product
becomes a sum of additions and subtractions. The weights of this model are random:
it will not say anything sensible, but it is the right size and the right shape, and
it is fast enough to measure how long the real thing would take on this machine.
There are three things to check when a model is converted: that the tensors have the
right names and shapes, that the numbers in them are the same as before, and that the
tokenizer turns the same text into the same tokens. When all three hold, the output of
the converted model is the output of the original one, which is what we want to see.
Hello, world! What is the time? It is ten past nine in the morning, and the weather
is fine. Numbers such as 1, 2, 3, 10, 100 and 2024 are split into groups of digits.`

// Special tokens of the built-in tokenizer, in id order after the merges.
var dummySpecials = []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"}

// dummyChatTemplate is a Llama-3 style template for the built-in specials.
const dummyChatTemplate = `{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`

// dummyMerges is the number of merges learned; with 256 byte tokens and the
// specials the vocabulary has 512 entries.
const dummyMerges = 512 - 256 - 5

// byteToRune is GPT-2's reversible byte→character map: printable Latin-1
// bytes stand for themselves, the others are shifted above U+0100.
func byteToRune() [256]rune {
	var m [256]rune
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[b] = rune(b)
		} else {
			m[b] = rune(256 + n)
			n++
		}
	}
	return m
}

type dummyTokenizer struct {
	vocab  []string // id → token
	merges []string
}

var builtinTokenizer = sync.OnceValue(buildDummyTokenizer)

// buildDummyTokenizer learns BPE merges from dummyCorpus: words (with their
// leading space, as the Llama-3 pre-tokenizer cuts them) are spelled in
// byte-level characters, and the most frequent adjacent pair is merged until
// dummyMerges merges exist. Ties go to the lexicographically smallest pair,
// so the result is deterministic.
func buildDummyTokenizer() *dummyTokenizer {
	b2r := byteToRune()
	t := &dummyTokenizer{}
	for b := range 256 {
		t.vocab = append(t.vocab, string(b2r[b]))
	}
	known := map[string]bool{}
	for _, v := range t.vocab {
		known[v] = true
	}
	// Word frequencies, each word a sequence of symbols.
	counts := map[string]int{}
	for _, w := range splitWords(dummyCorpus) {
		var sb strings.Builder
		for _, c := range []byte(w) {
			sb.WriteRune(b2r[c])
		}
		counts[sb.String()]++
	}
	type word struct {
		syms []string
		n    int
	}
	var words []word
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var syms []string
		for _, r := range k {
			syms = append(syms, string(r))
		}
		words = append(words, word{syms, counts[k]})
	}
	for len(t.merges) < dummyMerges {
		pairs := map[[2]string]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w.syms); i++ {
				pairs[[2]string{w.syms[i], w.syms[i+1]}] += w.n
			}
		}
		var best [2]string
		bestN := 0
		for p, n := range pairs {
			if n > bestN || (n == bestN && p[0]+" "+p[1] < best[0]+" "+best[1]) {
				best, bestN = p, n
			}
		}
		if bestN == 0 {
			break
		}
		merged := best[0] + best[1]
		t.merges = append(t.merges, best[0]+" "+best[1])
		if !known[merged] {
			known[merged] = true
			t.vocab = append(t.vocab, merged)
		}
		for wi := range words {
			s := words[wi].syms
			out := s[:0:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best[0] && s[i+1] == best[1] {
					out = append(out, merged)
					i++
				} else {
					out = append(out, s[i])
				}
			}
			words[wi].syms = out
		}
	}
	t.vocab = append(t.vocab, dummySpecials...)
	return t
}

// splitWords cuts text roughly as the Llama-3 pre-tokenizer does: letter
// runs with one optional leading non-letter, digit groups of up to three,
// punctuation runs, and whitespace.
func splitWords(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		switch {
		case unicode.IsLetter(rs[j]) || (j+1 < len(rs) && !unicode.IsLetter(rs[j]) && !unicode.IsDigit(rs[j]) && rs[j] != '\n' && unicode.IsLetter(rs[j+1])):
			j++
			for j < len(rs) && unicode.IsLetter(rs[j]) {
				j++
			}
		case unicode.IsDigit(rs[j]):
			for j < len(rs) && j-i < 3 && unicode.IsDigit(rs[j]) {
				j++
			}
		case unicode.IsSpace(rs[j]):
			for j < len(rs) && unicode.IsSpace(rs[j]) {
				j++
			}
		default:
			if rs[j] == ' ' {
				j++
			}
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !unicode.IsLetter(rs[j]) && !unicode.IsDigit(rs[j]) {
				j++
			}
		}
		if j == i {
			j++
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

// tokenizerJSON renders the built-in tokenizer as a Hugging Face
// tokenizer.json (tokenizers' Llama-3 pipeline).
func (t *dummyTokenizer) tokenizerJSON() ([]byte, error) {
	nBase := len(t.vocab) - len(dummySpecials)
	vocab := make(map[string]int, nBase)
	for i, v := range t.vocab[:nBase] {
		vocab[v] = i
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var adds []added
	for i, s := range dummySpecials {
		adds = append(adds, added{ID: nBase + i, Content: s, Special: true})
	}
	bos := dummySpecials[0]
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": adds,
		"normalizer":   nil,
		"pre_tokenizer": map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]string{"Regex": llama3Regex}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
			},
		},
		"post_processor": map[string]any{
			"type": "TemplateProcessing",
			"single": []any{
				map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
			},
			"pair": []any{
				map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
				map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 1}},
				map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}},
			},
			"special_tokens": map[string]any{bos: map[string]any{"id": bos, "ids": []int{nBase}, "tokens": []string{bos}}},
		},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
			"vocab": vocab, "merges": t.merges,
		},
	}
	return json.MarshalIndent(doc, "", " ")
}

// tokenizerConfigJSON is the matching tokenizer_config.json.
func (t *dummyTokenizer) tokenizerConfigJSON() ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"bos_token":        dummySpecials[0],
		"eos_token":        dummySpecials[2],
		"add_bos_token":    true,
		"add_eos_token":    false,
		"chat_template":    dummyChatTemplate,
		"model_max_length": 1 << 20,
		"tokenizer_class":  "PreTrainedTokenizerFast",
	}, "", " ")
}

// builtinVocabSize is the number of tokens of the built-in tokenizer.
func builtinVocabSize() int { return len(builtinTokenizer().vocab) }

// dummyGeneration is the generation_config of dummy models: generation
// stops at <|eot_id|> or <|end_of_text|>.
func dummyGeneration() *GenerationConfig {
	t := builtinTokenizer()
	nBase := len(t.vocab) - len(dummySpecials)
	return &GenerationConfig{BOSTokenID: TokenIDs{nBase}, EOSTokenID: TokenIDs{nBase + 2, nBase + 1}}
}

// dummyVocab is the built-in tokenizer as GGUF metadata for a model with
// config cfg (padded with unused tokens to its vocab_size), produced by the
// same code that reads a real checkpoint's tokenizer files.
func dummyVocab(cfg *Config) (*Vocab, error) {
	t := builtinTokenizer()
	tj, err := t.tokenizerJSON()
	if err != nil {
		return nil, err
	}
	tcb, err := t.tokenizerConfigJSON()
	if err != nil {
		return nil, err
	}
	var tc tokenizerConfig
	if err := json.Unmarshal(tcb, &tc); err != nil {
		return nil, err
	}
	v, err := bpeVocabFrom("built-in tokenizer.json", tj, &tc, cfg, "", "")
	if err != nil {
		return nil, err
	}
	v.finish(&tc, cfg, dummyGeneration())
	v.ChatTemplate = dummyChatTemplate
	return v, nil
}
