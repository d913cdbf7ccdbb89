package convert

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// The dummy models carry a small, real byte-level BPE tokenizer (GPT-2 byte
// alphabet, merges learned from the text below with the pre-tokenizer of
// the model family), so that a dummy GGUF tokenizes, runs and detokenizes
// like a real model of its family. The layout's Tokenizer picks the family.

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

// DummyTokenizer is the family of a dummy layout's built-in tokenizer.
type DummyTokenizer int

const (
	// TokenizerLlama3 is Llama 3's: the "llama-bpe" pre-tokenizer (digits
	// in groups of up to three), <|begin_of_text|> and <|eot_id|>, a
	// Llama-3 header chat template. The zero value.
	TokenizerLlama3 DummyTokenizer = iota
	// TokenizerFalcon3 is Falcon3's: the "falcon3" pre-tokenizer
	// (punctuation runs, then GPT-2's split, then single digits),
	// Falcon's >>TITLE<< style specials, <|endoftext|> as BOS and EOS,
	// and the <|role|>\n{content}\n chat format (FORMATS.md §7, §10).
	TokenizerFalcon3
)

// dummyVocabSize is the number of tokens of every built-in tokenizer
// (bytes, merges and specials), small enough for --vocab 512 models.
const dummyVocabSize = 512

// tokenizerFlavour is what sets one built-in tokenizer apart from another:
// everything else (byte alphabet, corpus, merge learning, file layout) is
// shared.
type tokenizerFlavour struct {
	// split cuts text into words as the family's pre-tokenizer does; the
	// merges are learned within words.
	split func(string) []string
	// preTokenizer is tokenizer.json's pre_tokenizer, the pipeline split
	// describes.
	preTokenizer any
	// ignoreMerges is the BPE model's ignore_merges: a word that is a token
	// is not merged (Llama 3, as llama.cpp's llama-bpe does), or it is
	// (Falcon, as llama.cpp's falcon3 does).
	ignoreMerges bool
	// specials are the special tokens, in id order after the merges.
	specials []string
	// bos and eos are tokenizer_config.json's tokens; addBOS says whether
	// a sequence starts with bos (Llama 3) or not (Falcon).
	bos, eos string
	addBOS   bool
	// stops are the texts of generation_config.json's eos_token_id list.
	stops []string
	// chatTemplate is tokenizer_config.json's chat_template.
	chatTemplate string
}

var flavours = [...]tokenizerFlavour{
	TokenizerLlama3: {
		split: splitLlama3,
		preTokenizer: map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]string{"Regex": llama3Regex}, "behavior": "Isolated", "invert": false},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
			},
		},
		ignoreMerges: true,
		specials:     []string{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"},
		bos:          "<|begin_of_text|>",
		eos:          "<|eot_id|>",
		addBOS:       true,
		stops:        []string{"<|eot_id|>", "<|end_of_text|>"},
		chatTemplate: `{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}`,
	},
	TokenizerFalcon3: {
		split: splitFalcon3,
		// Falcon3's tokenizer.json pipeline; llama.cpp's "falcon3" regexes
		// are its translation (FORMATS.md §10).
		preTokenizer: map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Punctuation", "behavior": "Contiguous"},
				map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
				map[string]any{"type": "Digits", "individual_digits": true},
			},
		},
		ignoreMerges: false,
		// Falcon3's first special tokens (ids 0-11 in the real vocabulary);
		// the chat role markers are plain text there, and here.
		specials: []string{">>TITLE<<", ">>ABSTRACT<<", ">>INTRODUCTION<<", ">>SUMMARY<<", ">>COMMENT<<", ">>ANSWER<<",
			">>QUESTION<<", ">>DOMAIN<<", ">>EMAIL_ADDRESS<<", ">>IP_ADDRESS<<", "<|startoftext|>", "<|endoftext|>"},
		bos:    "<|endoftext|>",
		eos:    "<|endoftext|>",
		addBOS: false,
		stops:  []string{"<|endoftext|>"},
		// runtime/chat's "falcon3" format, source for source, so that the
		// file renders as --chat-template falcon3 does.
		chatTemplate: `{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}`,
	},
}

// flavour returns the tokenizer family k, or an error for an unknown one.
func (k DummyTokenizer) flavour() (*tokenizerFlavour, error) {
	if k < 0 || int(k) >= len(flavours) {
		return nil, fmt.Errorf("unknown built-in tokenizer %d", int(k))
	}
	return &flavours[k], nil
}

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
	f      *tokenizerFlavour
	vocab  []string // id → token
	merges []string
}

// builtinTokenizers learns each family's tokenizer once, when first used.
var builtinTokenizers = func() (fs [len(flavours)]func() *dummyTokenizer) {
	for i := range flavours {
		f := &flavours[i]
		fs[i] = sync.OnceValue(func() *dummyTokenizer { return buildDummyTokenizer(f) })
	}
	return fs
}()

// builtinTokenizer is family k's built-in tokenizer; k must be valid (see
// DummyTokenizer.flavour).
func builtinTokenizer(k DummyTokenizer) *dummyTokenizer { return builtinTokenizers[k]() }

// buildDummyTokenizer learns BPE merges from dummyCorpus: words (as the
// family's pre-tokenizer cuts them) are spelled in byte-level characters,
// and the most frequent adjacent pair is merged until the vocabulary, with
// the specials, has dummyVocabSize tokens. Ties go to the lexicographically
// smallest pair, so the result is deterministic.
func buildDummyTokenizer(f *tokenizerFlavour) *dummyTokenizer {
	b2r := byteToRune()
	t := &dummyTokenizer{f: f}
	for b := range 256 {
		t.vocab = append(t.vocab, string(b2r[b]))
	}
	known := map[string]bool{}
	for _, v := range t.vocab {
		known[v] = true
	}
	// Word frequencies, each word a sequence of symbols.
	counts := map[string]int{}
	for _, w := range f.split(dummyCorpus) {
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
	for len(t.vocab) < dummyVocabSize-len(f.specials) {
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
	t.vocab = append(t.vocab, f.specials...)
	return t
}

// splitLlama3 cuts text roughly as the Llama-3 pre-tokenizer does: letter
// runs with one optional leading non-letter, digit groups of up to three,
// punctuation runs, and whitespace.
func splitLlama3(s string) []string {
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

// falcon3Punct reports whether r is cut out in runs by Falcon's first
// pre-tokenizer: tokenizers' Punctuation, which is Unicode punctuation (P)
// and ASCII punctuation, so also the ASCII symbols below (llama.cpp:
// [\p{P}\$\+<=>\^~\|`]+).
func falcon3Punct(r rune) bool {
	return unicode.IsPunct(r) || strings.ContainsRune("$+<=>^~|`", r)
}

// splitFalcon3 cuts text as Falcon3's pre-tokenizer does: punctuation runs
// apart, then GPT-2's split of the rest, then every ASCII digit alone (so
// numbers never merge).
func splitFalcon3(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i + 1
		for j < len(rs) && falcon3Punct(rs[j]) == falcon3Punct(rs[i]) {
			j++
		}
		var words []string
		if falcon3Punct(rs[i]) {
			words = []string{string(rs[i:j])}
		} else {
			words = splitGPT2(rs[i:j])
		}
		for _, w := range words {
			// Single digits: each ASCII digit is a word of its own.
			start := 0
			for k := 0; k < len(w); k++ {
				if w[k] >= '0' && w[k] <= '9' {
					if k > start {
						out = append(out, w[start:k])
					}
					out = append(out, w[k:k+1])
					start = k + 1
				}
			}
			if start < len(w) {
				out = append(out, w[start:])
			}
		}
		i = j
	}
	return out
}

// splitGPT2 cuts text by GPT-2's pattern,
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+,
// but for the contractions: Falcon cuts apostrophes out before.
func splitGPT2(rs []rune) []string {
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r):
			return 1
		case unicode.IsNumber(r):
			return 2
		case unicode.IsSpace(r):
			return 3
		}
		return 4
	}
	var out []string
	for i := 0; i < len(rs); {
		j := i
		if rs[j] == ' ' && j+1 < len(rs) && class(rs[j+1]) != 3 {
			j++ // the optional leading space of a letter, number or symbol run
		}
		c := class(rs[j])
		for j < len(rs) && class(rs[j]) == c {
			j++
		}
		if c == 3 && j < len(rs) && j-i > 1 {
			j-- // \s+(?!\S): the last space goes with the next word
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

// tokenizerJSON renders the built-in tokenizer as a Hugging Face
// tokenizer.json (the family's tokenizers pipeline).
func (t *dummyTokenizer) tokenizerJSON() ([]byte, error) {
	nBase := len(t.vocab) - len(t.f.specials)
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
	for i, s := range t.f.specials {
		adds = append(adds, added{ID: nBase + i, Content: s, Special: true})
	}
	// A template that puts BOS in front is how tokenizer.json says
	// add_bos_token; Falcon's post-processor only maps byte offsets.
	post := map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true}
	if bos := t.f.bos; t.f.addBOS {
		post = map[string]any{
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
			"special_tokens": map[string]any{bos: map[string]any{"id": bos, "ids": []int{t.id(bos)}, "tokens": []string{bos}}},
		}
	}
	doc := map[string]any{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   adds,
		"normalizer":     nil,
		"pre_tokenizer":  t.f.preTokenizer,
		"post_processor": post,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": t.f.ignoreMerges,
			"vocab": vocab, "merges": t.merges,
		},
	}
	return json.MarshalIndent(doc, "", " ")
}

// id is the id of a special token of the built-in tokenizer.
func (t *dummyTokenizer) id(special string) int {
	for i, s := range t.f.specials {
		if s == special {
			return len(t.vocab) - len(t.f.specials) + i
		}
	}
	panic("built-in tokenizer: no special token " + special)
}

// tokenizerConfigJSON is the matching tokenizer_config.json.
func (t *dummyTokenizer) tokenizerConfigJSON() ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"bos_token":        t.f.bos,
		"eos_token":        t.f.eos,
		"add_bos_token":    t.f.addBOS,
		"add_eos_token":    false,
		"chat_template":    t.f.chatTemplate,
		"model_max_length": 1 << 20,
		"tokenizer_class":  "PreTrainedTokenizerFast",
	}, "", " ")
}

// generation is the generation_config of dummy models: BOS, and the
// family's end-of-generation tokens.
func (t *dummyTokenizer) generation() *GenerationConfig {
	g := &GenerationConfig{BOSTokenID: TokenIDs{t.id(t.f.bos)}}
	for _, s := range t.f.stops {
		g.EOSTokenID = append(g.EOSTokenID, t.id(s))
	}
	return g
}

// dummyVocab is layout l's built-in tokenizer as GGUF metadata for a model
// with config cfg (padded with unused tokens to its vocab_size), produced by
// the same code that reads a real checkpoint's tokenizer files.
func dummyVocab(l Layout, cfg *Config) (*Vocab, error) {
	if _, err := l.Tokenizer.flavour(); err != nil {
		return nil, err
	}
	t := builtinTokenizer(l.Tokenizer)
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
	v.finish(&tc, cfg, t.generation())
	v.ChatTemplate = t.f.chatTemplate
	return v, nil
}
