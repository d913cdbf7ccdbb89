package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// hfTokenizer is the part of a Hugging Face tokenizers tokenizer.json that a
// GGUF needs.
type hfTokenizer struct {
	AddedTokens   []hfAddedToken  `json:"added_tokens"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         struct {
		Type   string          `json:"type"`
		Vocab  json.RawMessage `json:"vocab"`
		Merges json.RawMessage `json:"merges"`
	} `json:"model"`
}

type hfAddedToken struct {
	ID      int    `json:"id"`
	Content string `json:"content"`
	Special bool   `json:"special"`
}

// bpeVocab is a byte-level BPE vocabulary read from tokenizer.json.
type bpeVocab struct {
	tokens  []string // by id; "" for ids the file does not define
	types   []int32
	merges  []string // "left right"
	byText  map[string]int
	pre     json.RawMessage
	post    json.RawMessage
	special map[string]bool
}

// parseTokenizerJSON reads a BPE tokenizer.json. vocabSize is config.json's
// vocab_size: ids must stay below it.
func parseTokenizerJSON(path string, b []byte, vocabSize int) (*bpeVocab, error) {
	var tj hfTokenizer
	if err := json.Unmarshal(b, &tj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, describeJSONError(b, err))
	}
	if tj.Model.Type != "BPE" {
		if tj.Model.Type == "" {
			return nil, fmt.Errorf("%s: model.type is missing", path)
		}
		return nil, fmt.Errorf("%s: model.type %q is not supported (want BPE, or a SentencePiece tokenizer.model)", path, tj.Model.Type)
	}
	var vocab map[string]int
	if err := json.Unmarshal(tj.Model.Vocab, &vocab); err != nil || len(vocab) == 0 {
		return nil, fmt.Errorf("%s: model.vocab is missing or not an object of token ids", path)
	}
	v := &bpeVocab{
		tokens:  make([]string, vocabSize),
		types:   make([]int32, vocabSize),
		byText:  make(map[string]int, len(vocab)+len(tj.AddedTokens)),
		pre:     tj.PreTokenizer,
		post:    tj.PostProcessor,
		special: map[string]bool{},
	}
	defined := make([]bool, vocabSize)
	set := func(id int, text string, typ int32) error {
		if id < 0 || id >= vocabSize {
			return fmt.Errorf("%s: token %q has id %d, outside config.json's vocab_size %d", path, text, id, vocabSize)
		}
		if defined[id] && v.tokens[id] != text {
			return fmt.Errorf("%s: id %d is both %q and %q", path, id, v.tokens[id], text)
		}
		defined[id] = true
		v.tokens[id], v.types[id] = text, typ
		v.byText[text] = id
		return nil
	}
	// Sorted so that error messages do not depend on map order.
	texts := make([]string, 0, len(vocab))
	for t := range vocab {
		texts = append(texts, t)
	}
	sort.Strings(texts)
	for _, t := range texts {
		if err := set(vocab[t], t, TokenNormal); err != nil {
			return nil, err
		}
	}
	for _, at := range tj.AddedTokens {
		typ := TokenUserDefined
		if at.Special {
			typ = TokenControl
			v.special[at.Content] = true
		}
		if err := set(at.ID, at.Content, typ); err != nil {
			return nil, err
		}
	}
	for id := range v.tokens {
		if !defined[id] {
			// llama.cpp's converters fill holes (and the padding up to
			// vocab_size) with unused placeholder tokens.
			v.tokens[id] = fmt.Sprintf("[PAD%d]", id)
			v.types[id] = TokenUnused
		}
	}
	merges, err := parseMerges(tj.Model.Merges)
	if err != nil {
		return nil, fmt.Errorf("%s: model.merges: %w", path, err)
	}
	if len(merges) == 0 {
		return nil, fmt.Errorf("%s: BPE model has no merges: a byte-level BPE tokenizer cannot work without them", path)
	}
	for i, m := range merges {
		l, r, _ := strings.Cut(m, " ")
		if _, ok := v.byText[l]; !ok {
			return nil, fmt.Errorf("%s: merge %d (%q): %q is not in the vocabulary", path, i, m, l)
		}
		if _, ok := v.byText[r]; !ok {
			return nil, fmt.Errorf("%s: merge %d (%q): %q is not in the vocabulary", path, i, m, r)
		}
	}
	v.merges = merges
	return v, nil
}

// parseMerges accepts both spellings of BPE merges: "left right" strings
// (tokenizers < 0.20) and ["left", "right"] pairs (newer files).
func parseMerges(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var strs []string
	if err := json.Unmarshal(raw, &strs); err == nil {
		for i, s := range strs {
			l, r, ok := strings.Cut(s, " ")
			if !ok || l == "" || r == "" || strings.Contains(r, " ") {
				return nil, fmt.Errorf("entry %d (%q) is not two tokens separated by one space", i, s)
			}
		}
		return strs, nil
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, errors.New("neither a list of strings nor a list of pairs")
	}
	out := make([]string, len(pairs))
	for i, p := range pairs {
		if len(p) != 2 || p[0] == "" || p[1] == "" {
			return nil, fmt.Errorf("entry %d is not a pair of non-empty tokens", i)
		}
		if strings.Contains(p[0], " ") || strings.Contains(p[1], " ") {
			// GGUF stores merges as "left right"; a space inside a token
			// would make that ambiguous. Byte-level BPE never has one.
			return nil, fmt.Errorf("entry %d (%q, %q) has a space inside a token", i, p[0], p[1])
		}
		out[i] = p[0] + " " + p[1]
	}
	return out, nil
}

// llama3Regex is the pre-tokenizer split pattern of Llama 3's tokenizer
// (also used by BitNet b1.58 2B-4T), which llama.cpp calls "llama-bpe".
const llama3Regex = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

// detectPre names the llama.cpp pre-tokenizer of a BPE vocabulary.
// llama.cpp's converter identifies it by hashing the token ids of a test
// string, which needs the tokenizers library; we recognise the tokenizers we
// support from their tokenizer.json instead, and refuse the rest.
func (v *bpeVocab) detectPre(hint string) (string, error) {
	var regexes []string
	collectRegexes(v.pre, &regexes, 0)
	for _, r := range regexes {
		if r == llama3Regex {
			return "llama-bpe", nil
		}
	}
	if _, ok := v.byText[">>TITLE<<"]; ok {
		// Falcon's special tokens: Falcon3 and Falcon-E share the
		// tokenizer but llama.cpp names their pre-tokenizers apart.
		if strings.Contains(strings.ToLower(hint), "falcon-e") || strings.Contains(strings.ToLower(hint), "falcon_e") {
			return "falcon_e", nil
		}
		return "falcon3", nil
	}
	return "", errors.New("BPE pre-tokenizer not recognised (known: Llama 3 \"llama-bpe\", Falcon3 \"falcon3\", Falcon-E \"falcon_e\"); name it with Options.TokenizerPre (--tokenizer-pre)")
}

// maxJSONDepth bounds the walks over tokenizer.json's pre-tokenizer and
// post-processor trees. Real files nest two or three levels; each level
// decodes its subtree again, so a hostile file nested thousands deep would
// cost quadratic time.
const maxJSONDepth = 16

// collectRegexes finds every Split pre-tokenizer's regex in a
// pre_tokenizer JSON tree.
func collectRegexes(raw json.RawMessage, out *[]string, depth int) {
	if depth > maxJSONDepth {
		return
	}
	var node map[string]json.RawMessage
	if json.Unmarshal(raw, &node) != nil {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, e := range list {
				collectRegexes(e, out, depth+1)
			}
		}
		return
	}
	if p, ok := node["pattern"]; ok {
		var pat struct {
			Regex string `json:"Regex"`
		}
		if json.Unmarshal(p, &pat) == nil && pat.Regex != "" {
			*out = append(*out, pat.Regex)
		}
	}
	for _, k := range []string{"pretokenizers", "pre_tokenizers"} {
		if sub, ok := node[k]; ok {
			collectRegexes(sub, out, depth+1)
		}
	}
}

// addsBOS reports whether the post-processor template puts bos in front of
// a single sequence (how tokenizer.json says "add_bos_token").
func (v *bpeVocab) addsBOS(bos string) (bool, bool) {
	if len(v.post) == 0 || bos == "" {
		return false, false
	}
	var found, known bool
	var walk func(raw json.RawMessage, depth int)
	walk = func(raw json.RawMessage, depth int) {
		if depth > maxJSONDepth {
			return
		}
		var node struct {
			Type       string            `json:"type"`
			Processors []json.RawMessage `json:"processors"`
			Single     []struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
				Sequence *struct{} `json:"Sequence"`
			} `json:"single"`
		}
		if json.Unmarshal(raw, &node) != nil {
			return
		}
		for _, p := range node.Processors {
			walk(p, depth+1)
		}
		if node.Type == "TemplateProcessing" && len(node.Single) > 0 {
			known = true
			first := node.Single[0]
			found = first.SpecialToken != nil && first.SpecialToken.ID == bos
		}
	}
	walk(v.post, 0)
	return found, known
}
