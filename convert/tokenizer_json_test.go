package convert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tokJSON builds a small tokenizer.json for tests.
func tokJSON(t *testing.T, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"added_tokens": []any{
			map[string]any{"id": 5, "content": "<s>", "special": true},
			map[string]any{"id": 6, "content": "<tool>", "special": false},
		},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": llama3Regex}},
			map[string]any{"type": "ByteLevel"},
		}},
		"post_processor": map[string]any{"type": "Sequence", "processors": []any{
			map[string]any{"type": "ByteLevel"},
			map[string]any{"type": "TemplateProcessing", "single": []any{
				map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}},
				map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
			}},
		}},
		"model": map[string]any{
			"type":   "BPE",
			"vocab":  map[string]int{"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4},
			"merges": []string{"a b", "ab c"},
		},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseTokenizerJSON(t *testing.T) {
	v, err := parseTokenizerJSON("tokenizer.json", tokJSON(t, nil), 9)
	if err != nil {
		t.Fatal(err)
	}
	wantTokens := []string{"a", "b", "c", "ab", "abc", "<s>", "<tool>", "[PAD7]", "[PAD8]"}
	wantTypes := []int32{1, 1, 1, 1, 1, TokenControl, TokenUserDefined, TokenUnused, TokenUnused}
	if !reflect.DeepEqual(v.tokens, wantTokens) || !reflect.DeepEqual(v.types, wantTypes) {
		t.Errorf("tokens %q types %v", v.tokens, v.types)
	}
	if !reflect.DeepEqual(v.merges, []string{"a b", "ab c"}) {
		t.Errorf("merges %q", v.merges)
	}
	if pre, err := v.detectPre(""); err != nil || pre != "llama-bpe" {
		t.Errorf("pre %q, %v", pre, err)
	}
	if add, known := v.addsBOS("<s>"); !add || !known {
		t.Errorf("addsBOS = %v, %v", add, known)
	}
}

func TestParseTokenizerJSONPairMerges(t *testing.T) {
	b := tokJSON(t, func(m map[string]any) {
		m["model"].(map[string]any)["merges"] = [][]string{{"a", "b"}, {"ab", "c"}}
	})
	v, err := parseTokenizerJSON("tokenizer.json", b, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(v.merges, []string{"a b", "ab c"}) {
		t.Errorf("merges %q", v.merges)
	}
}

func TestParseTokenizerJSONErrors(t *testing.T) {
	cases := []struct {
		name  string
		size  int
		edit  func(m map[string]any)
		want  string
		input []byte
	}{
		{name: "not JSON", size: 7, input: []byte("{"), want: "unexpected end"},
		{name: "unigram", size: 7, edit: func(m map[string]any) { m["model"].(map[string]any)["type"] = "Unigram" }, want: `model.type "Unigram" is not supported`},
		{name: "no model type", size: 7, edit: func(m map[string]any) { delete(m["model"].(map[string]any), "type") }, want: "model.type is missing"},
		{name: "no vocab", size: 7, edit: func(m map[string]any) { delete(m["model"].(map[string]any), "vocab") }, want: "model.vocab is missing"},
		{name: "id beyond vocab_size", size: 6, want: "outside config.json's vocab_size 6"},
		{name: "id used twice", size: 7, edit: func(m map[string]any) {
			m["added_tokens"] = []any{map[string]any{"id": 1, "content": "<s>", "special": true}}
		}, want: `id 1 is both "b" and "<s>"`},
		{name: "no merges", size: 7, edit: func(m map[string]any) { delete(m["model"].(map[string]any), "merges") }, want: "no merges"},
		{name: "merge not a pair", size: 7, edit: func(m map[string]any) { m["model"].(map[string]any)["merges"] = []string{"abc"} }, want: "not two tokens"},
		{name: "merge of unknown token", size: 7, edit: func(m map[string]any) { m["model"].(map[string]any)["merges"] = []string{"a x"} }, want: `"x" is not in the vocabulary`},
		{name: "merges of wrong type", size: 7, edit: func(m map[string]any) { m["model"].(map[string]any)["merges"] = 3 }, want: "neither a list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.input
			if in == nil {
				in = tokJSON(t, c.edit)
			}
			_, err := parseTokenizerJSON("tokenizer.json", in, c.size)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestDetectPre(t *testing.T) {
	falcon := func(m map[string]any) {
		m["pre_tokenizer"] = map[string]any{"type": "ByteLevel"}
		m["added_tokens"] = []any{map[string]any{"id": 5, "content": ">>TITLE<<", "special": true}}
	}
	cases := []struct {
		name, hint string
		edit       func(m map[string]any)
		want       string
	}{
		{"llama3", "", nil, "llama-bpe"},
		{"falcon3", "Falcon3-7B-Instruct-1.58bit", falcon, "falcon3"},
		{"falcon-e", "Falcon-E-3B-Instruct", falcon, "falcon_e"},
		{"unknown", "", func(m map[string]any) { m["pre_tokenizer"] = map[string]any{"type": "Whitespace"} }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := parseTokenizerJSON("tokenizer.json", tokJSON(t, c.edit), 7)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.detectPre(c.hint)
			if c.want == "" {
				if err == nil {
					t.Errorf("recognised %q", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestTokenRefAndTokenIDs(t *testing.T) {
	var tc tokenizerConfig
	in := `{"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null, "chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "y"}]}`
	if err := json.Unmarshal([]byte(in), &tc); err != nil {
		t.Fatal(err)
	}
	if tc.BOSToken != "<s>" || tc.EOSToken != "</s>" || tc.PadToken != "" {
		t.Errorf("%+v", tc)
	}
	var c Config
	if err := json.Unmarshal([]byte(`{"eos_token_id": [128001, 128009], "bos_token_id": 128000, "pad_token_id": null}`), &c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.EOSTokenID, TokenIDs{128001, 128009}) || c.BOSTokenID.First() != 128000 || c.PadTokenID.First() != -1 {
		t.Errorf("%v %v %v", c.EOSTokenID, c.BOSTokenID, c.PadTokenID)
	}
	ck := &Checkpoint{Dir: t.TempDir()}
	got, err := ck.chatTemplate("tokenizer_config.json", tc.ChatTemplate)
	if err != nil || got != "y" {
		t.Errorf("chat template %q, %v", got, err)
	}
}

// TestChatTemplateFiles: without a chat_template in tokenizer_config.json,
// newer checkpoints ship chat_template.jinja (or the older
// chat_template.json); convert carries either into the GGUF.
func TestChatTemplateFiles(t *testing.T) {
	for _, c := range []struct {
		name, file, content, want string
	}{
		{"jinja file", "chat_template.jinja", "{{ messages[0].content }}\n", "{{ messages[0].content }}\n"},
		{"json file", "chat_template.json", `{"chat_template": "{{ bos_token }}"}`, "{{ bos_token }}"},
		{"none", "", "", ""},
	} {
		ck := &Checkpoint{Dir: t.TempDir()}
		if c.file != "" {
			if err := os.WriteFile(filepath.Join(ck.Dir, c.file), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ck.chatTemplate("tokenizer_config.json", json.RawMessage("null"))
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// TestDeepPreTokenizerIsCheap: a pre_tokenizer nested thousands of levels
// deep is not walked level by level (each level decoded its subtree again:
// quadratic time on a hostile tokenizer.json).
func TestDeepPreTokenizerIsCheap(t *testing.T) {
	const depth = 4900 // two JSON levels each; encoding/json refuses 10000
	pre := strings.Repeat(`{"type":"Sequence","pretokenizers":[`, depth) + `{"type":"Split","pattern":{"Regex":"x"}}` + strings.Repeat(`]}`, depth)
	v := &bpeVocab{pre: json.RawMessage(pre), post: json.RawMessage(strings.Replace(pre, "pretokenizers", "processors", -1)), byText: map[string]int{}}
	start := time.Now()
	v.detectPre("")
	v.addsBOS("<s>")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("walking a %d-deep tree took %v", depth, d)
	}
}
