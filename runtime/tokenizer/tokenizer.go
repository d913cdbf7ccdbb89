package tokenizer

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Tokenizer encodes text to token ids and decodes ids to bytes.
type Tokenizer struct {
	maxBytes     int // longest token in bytes; see MaxTokenBytes
	maxBytesOnce sync.Once

	bpe    bool
	pre    preTokenizer
	tokens []string
	scores []float32
	types  []TokenType
	ids    map[string]int32 // token text -> id (the last id wins, as in libllama)

	bos, eos, eot, eom, unk, pad int32
	addBOS, addEOS, addSpace     bool
	ignoreMerges                 bool // Llama-3: a word that is a token is not merged
	eog                          []int32
	special                      []int32 // partition candidates, longest text first
	specialIx                    specialIndex

	// SPM: the token for each byte when a character has no token.
	byteFallback [256]int32

	// BPE: raw bytes -> id for every token spelled in the byte alphabet, the
	// token of each single byte, and the merge rules keyed by (left, right).
	rawIDs   map[string]int32
	byteSym  [256]int32
	mergeMap map[uint64]merge

	// pieces[pieceOff[i]:pieceOff[i+1]] is token i's text as bytes.
	pieces   []byte
	pieceOff []uint32

	chatTemplate string
	inferred     []string // what New concluded because the metadata did not say
}

type merge struct{ rank, result int32 }

func mergeKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

// eogTexts are the texts libllama treats as end-of-generation whatever the
// metadata says (llm_load_vocab's special_eog_ids).
var eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>"}

// eotTexts are the texts libllama takes as EOT when no eot id is given.
var eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"}

// New builds a Tokenizer from plain data. It copies what it keeps.
//
// One deliberate difference from libllama: a BPE vocabulary whose Pre is
// empty or "default" but that contains <|begin_of_text|> is split with the
// Llama-3 pattern (bitnet.cpp's convert-ms-to-gguf-bitnet.py writes no
// tokenizer.ggml.pre for the Llama-3 vocabulary of BitNet b1.58 2B-4T, and
// libllama's default chain would split it differently from the model's own
// tokenizer).
func New(v Vocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	if n == 0 {
		return nil, errors.New("tokenizer: empty vocabulary")
	}
	if n > 1<<31-1 {
		return nil, fmt.Errorf("tokenizer: %d tokens is too many", n)
	}
	if v.Scores != nil && len(v.Scores) != n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) != n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	t := &Tokenizer{
		tokens:       make([]string, n),
		types:        make([]TokenType, n),
		ids:          make(map[string]int32, n),
		chatTemplate: v.ChatTemplate,
	}
	for i, s := range v.Tokens {
		if s == "" {
			s = fmt.Sprintf("[EMPTY_%d]", i) // libllama's name, so ids stay distinct
		}
		t.tokens[i] = s
		t.ids[s] = int32(i)
	}
	if v.Types != nil {
		copy(t.types, v.Types)
	} else {
		for i := range t.types {
			t.types[i] = TypeNormal
		}
	}
	if v.Scores != nil {
		t.scores = slices.Clone(v.Scores)
	}
	for _, p := range []struct {
		name string
		id   int32
		dst  *int32
	}{{"BOS", v.BOS, &t.bos}, {"EOS", v.EOS, &t.eos}, {"EOT", v.EOT, &t.eot}, {"EOM", v.EOM, &t.eom}, {"UNK", v.UNK, &t.unk}, {"PAD", v.PAD, &t.pad}} {
		if p.id < NoToken || p.id >= int32(n) {
			return nil, fmt.Errorf("tokenizer: %s id %d outside the vocabulary of %d tokens", p.name, p.id, n)
		}
		*p.dst = p.id
	}

	switch v.Model {
	case ModelSPM:
		t.addBOS, t.addSpace = true, true
	case ModelBPE:
		t.bpe = true
		pre, err := resolvePre(v.Pre, t.ids)
		if err != nil {
			return nil, err
		}
		if (v.Pre == "" || v.Pre == "default") && pre.kind == preLlama3 {
			t.inferred = append(t.inferred, fmt.Sprintf("tokenizer.ggml.pre is %q but the vocabulary has <|begin_of_text|>: "+
				"using the Llama-3 (llama-bpe) pre-tokenizer", v.Pre))
		}
		t.pre = pre.kind
		t.ignoreMerges = pre.ignoreMerges
		t.addBOS = pre.addBOS
	default:
		return nil, fmt.Errorf("tokenizer: unsupported model %q (want %q or %q)", v.Model, ModelSPM, ModelBPE)
	}
	if v.AddBOS != nil {
		t.addBOS = *v.AddBOS
	}
	if v.AddEOS != nil {
		t.addEOS = *v.AddEOS
	}
	if v.AddSpacePrefix != nil {
		t.addSpace = *v.AddSpacePrefix
	}

	for _, id := range v.EOG {
		if id < 0 || id >= int32(n) {
			return nil, fmt.Errorf("tokenizer: end-of-generation id %d outside the vocabulary of %d tokens", id, n)
		}
		t.eog = append(t.eog, id)
	}
	t.findEndOfGeneration()
	t.cacheSpecial()
	t.indexSpecial()
	if t.bpe {
		if err := t.initBPE(v.Merges); err != nil {
			return nil, err
		}
	} else {
		t.initSPM()
	}
	t.cachePieces()
	return t, nil
}

type preChoice struct {
	kind                 preTokenizer
	ignoreMerges, addBOS bool
}

func resolvePre(name string, ids map[string]int32) (preChoice, error) {
	switch name {
	case "llama3", "llama-v3", "llama-bpe":
		return preChoice{preLlama3, true, true}, nil
	case "dbrx", "smaug-bpe":
		return preChoice{kind: preLlama3}, nil
	case "falcon3", "falcon_e":
		return preChoice{kind: preFalcon3}, nil
	case "falcon":
		return preChoice{kind: preFalcon}, nil
	case "gpt-2", "phi-2", "mpt", "olmo", "jais",
		"jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code":
		return preChoice{kind: preGPT2}, nil
	case "", "default":
		if _, ok := ids["<|begin_of_text|>"]; ok {
			return preChoice{preLlama3, true, true}, nil
		}
		return preChoice{kind: preDefault}, nil
	}
	return preChoice{}, fmt.Errorf("tokenizer: unsupported pre-tokenizer %q", name)
}

// findEndOfGeneration mirrors llm_load_vocab: an unset EOT/EOM is found by
// its text, such tokens become control tokens, and EOG is EOS, EOT, EOM plus
// every token spelled like an end-of-turn marker.
func (t *Tokenizer) findEndOfGeneration() {
	lookup := func(texts []string) int32 {
		best := NoToken
		for _, s := range texts {
			if id, ok := t.ids[s]; ok && (best == NoToken || id < best) {
				best = id
			}
		}
		return best
	}
	if t.eot == NoToken {
		if t.eot = lookup(eotTexts); t.eot != NoToken {
			t.types[t.eot] = TypeControl
			t.inferred = append(t.inferred, fmt.Sprintf("no end-of-turn key: EOT is %s (%d), found by its text", t.tokens[t.eot], t.eot))
		}
	}
	if t.eom == NoToken {
		if t.eom = lookup([]string{"<|eom_id|>"}); t.eom != NoToken {
			t.types[t.eom] = TypeControl
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.ids[s]; ok {
			t.types[id] = TypeControl
			t.eog = append(t.eog, id)
		}
	}
	for _, id := range []int32{t.eos, t.eot, t.eom} {
		if id != NoToken {
			t.eog = append(t.eog, id)
		}
	}
	slices.Sort(t.eog)
	t.eog = slices.Compact(t.eog)
}

// cacheSpecial lists the tokens matched as whole strings before tokenizing,
// longest first (ties by id, where libllama's unstable sort is arbitrary).
func (t *Tokenizer) cacheSpecial() {
	for i, typ := range t.types {
		if typ == TypeControl || typ == TypeUserDefined || typ == TypeUnknown {
			t.special = append(t.special, int32(i))
		}
	}
	slices.SortStableFunc(t.special, func(a, b int32) int {
		return cmp.Compare(len(t.tokens[b]), len(t.tokens[a]))
	})
}

// Encode tokenizes text. addSpecial adds BOS/EOS as the vocabulary asks
// (tokenizer.ggml.add_bos_token / add_eos_token); parseSpecial lets control
// tokens written in the text (e.g. "<|eot_id|>") become those tokens.
// User-defined tokens are always matched whole, as in libllama.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int32 {
	ids, _ := t.encode(text, addSpecial, parseSpecial, -1)
	return ids
}

// EncodeLimit tokenizes text as Encode does while the tokens number at most
// limit, and stops soon after they pass it: then it returns ok false and a
// prefix of more than limit tokens (not the whole text's). A server uses it
// so that a prompt too long for its context costs the merges of a context's
// worth of words, not of the whole text. (A SentencePiece vocabulary has no
// words to stop between: each run of text between special tokens is merged
// whole.)
func (t *Tokenizer) EncodeLimit(text string, addSpecial, parseSpecial bool, limit int) (ids []int32, ok bool) {
	return t.encode(text, addSpecial, parseSpecial, max(limit, 0))
}

// encode is Encode with an optional token limit (negative: none).
func (t *Tokenizer) encode(text string, addSpecial, parseSpecial bool, limit int) ([]int32, bool) {
	n := len(text)/3 + 2
	if limit >= 0 {
		n = min(n, limit+2)
	}
	out := make([]int32, 0, n)
	if addSpecial && t.addBOS && t.bos != NoToken {
		out = append(out, t.bos)
	}
	over := func() bool { return limit >= 0 && len(out) > limit }
	sc := scratchPool.Get().(*scratch)
	defer putScratch(sc)
	prevSpecial := true // SPM: the space prefix goes before the first text and after each special token
	for _, fr := range t.partition(text, parseSpecial) {
		if over() {
			return out, false
		}
		if fr.id != NoToken {
			out = append(out, fr.id)
			prevSpecial = true
			continue
		}
		if t.bpe {
			out = t.encodeBPE(fr.text, sc, out, limit)
			continue
		}
		s := fr.text
		if t.addSpace && prevSpecial {
			s = " " + s
		}
		out = t.encodeSPM(strings.ReplaceAll(s, " ", "▁"), sc, out)
		prevSpecial = false
	}
	if addSpecial && t.addEOS && t.eos != NoToken {
		out = append(out, t.eos)
	}
	return out, !over()
}

// scratch holds the buffers of one Encode; pooled so that steady-state
// encoding allocates little more than its result.
type scratch struct {
	cp       codepoints
	spansA   []span
	spansB   []span
	word     []byte
	syms     []symbol
	bpeQueue bpeQueue
	spmQueue spmQueue
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// NumTokens is the vocabulary size.
func (t *Tokenizer) NumTokens() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token, or NoToken.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence token, or NoToken.
func (t *Tokenizer) EOS() int32 { return t.eos }

// EOT is the end-of-turn token, or NoToken.
func (t *Tokenizer) EOT() int32 { return t.eot }

// EOM is the end-of-message token, or NoToken.
func (t *Tokenizer) EOM() int32 { return t.eom }

// UNK is the unknown token, or NoToken.
func (t *Tokenizer) UNK() int32 { return t.unk }

// PAD is the padding token, or NoToken.
func (t *Tokenizer) PAD() int32 { return t.pad }

// AddBOS reports whether Encode with addSpecial prepends BOS.
func (t *Tokenizer) AddBOS() bool { return t.addBOS }

// AddEOS reports whether Encode with addSpecial appends EOS.
func (t *Tokenizer) AddEOS() bool { return t.addEOS }

// IsBPE reports whether this is a byte-level BPE (gpt2) vocabulary rather
// than a SentencePiece one.
func (t *Tokenizer) IsBPE() bool { return t.bpe }

// Inferred lists, in words, what the tokenizer concluded because the
// metadata did not say it (a published 2B-4T GGUF has no
// tokenizer.ggml.pre and no EOT key, FORMATS.md §10); loaders log it at -v.
func (t *Tokenizer) Inferred() []string { return slices.Clone(t.inferred) }

// ChatTemplate returns the vocabulary's tokenizer.chat_template ("" if none).
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// IsEOG reports whether id ends generation (EOS, EOT, EOM and tokens
// spelled like end-of-turn markers).
func (t *Tokenizer) IsEOG(id int32) bool {
	_, found := slices.BinarySearch(t.eog, id)
	return found
}

// EOG returns the end-of-generation ids, sorted.
func (t *Tokenizer) EOG() []int32 { return slices.Clone(t.eog) }

// Token returns token id's text as the vocabulary spells it ("" when out of
// range).
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Type returns token id's type (TypeUndefined when out of range).
func (t *Tokenizer) Type(id int32) TokenType {
	if id < 0 || int(id) >= len(t.types) {
		return TypeUndefined
	}
	return t.types[id]
}

// Lookup returns the id of the token spelled text, as the vocabulary spells
// it (▁ for spaces in SPM, the byte alphabet in BPE).
func (t *Tokenizer) Lookup(text string) (int32, bool) {
	id, ok := t.ids[text]
	return id, ok
}
