package convert

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
)

// Fuzz targets for every parser of checkpoint files that come from outside:
// the safetensors header, config.json, tokenizer.json and the chat template.
// Seeds are here and under testdata/fuzz/<target>/.

// safetensorsFile builds a safetensors file from a header and data size.
func safetensorsFile(header string, data int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

// dtypeSizes are the element sizes of the dtypes a checkpoint may hold.
var dtypeSizes = map[string]uint64{"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}

func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(safetensorsFile(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]}}`, 12))
	f.Add(safetensorsFile(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]}}`, 8))
	f.Add(safetensorsFile(`{"a":{"dtype":"F32","shape":[1152921504606846976,16],"data_offsets":[0,4]}}`, 4))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseShard("fuzz.safetensors", &mapping{data: data})
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.safetensors") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, ti := range s.tensors {
			size, ok := dtypeSizes[ti.DType]
			if !ok {
				continue
			}
			n := size
			for _, d := range ti.Shape {
				n *= d
			}
			if uint64(len(ti.Data)) != n {
				t.Fatalf("tensor %q: %d bytes of data for %s %v", ti.Name, len(ti.Data), ti.DType, ti.Shape)
			}
			if ti.off < 8 || ti.off+len(ti.Data) > len(data) {
				t.Fatalf("tensor %q: data at [%d, %d) outside the file of %d bytes", ti.Name, ti.off, ti.off+len(ti.Data), len(data))
			}
		}
	})
}

func FuzzConfigJSON(f *testing.F) {
	l, _ := LookupLayout("2B-4T")
	seed, _ := json.Marshal(hfConfigJSON(l, l.config()))
	f.Add(seed)
	f.Add([]byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":256,"intermediate_size":512,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":512,"max_position_embeddings":4611686018427387904}`))
	f.Add([]byte(`{"architectures":["BitnetForCausalLM"],"hidden_size":64,"num_attention_heads":3,"eos_token_id":[1,2,null],"rope_scaling":{"type":"linear","factor":2}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseConfig("config.json", b)
		if err != nil {
			if !strings.Contains(err.Error(), "config.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c.HeadDim <= 0 || c.HeadDim%2 != 0 || c.NumKeyValueHeads <= 0 || c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
			t.Fatalf("accepted an inconsistent config: %+v", c)
		}
		// Whatever validate accepts must be writable as GGUF metadata.
		p := &modelParams{arch: "llama", vocab: c.VocabSize, context: c.MaxPositionEmbeddings, hidden: c.HiddenSize,
			layers: c.NumHiddenLayers, ffn: c.IntermediateSize, heads: c.NumAttentionHeads, kvHeads: c.NumKeyValueHeads, headDim: c.HeadDim}
		if _, err := p.kv(); err != nil {
			t.Fatalf("validated config does not fit GGUF: %v", err)
		}
	})
}

func FuzzTokenizerJSON(f *testing.F) {
	for k := range flavours {
		tj, err := builtinTokenizer(DummyTokenizer(k)).tokenizerJSON()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tj, 600)
	}
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"added_tokens":[{"id":3,"content":"<s>","special":true}]}`), 4)
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]}}`), 3)
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`), 3)
	f.Fuzz(func(t *testing.T, b []byte, vocabSize int) {
		// config.json bounds vocab_size by maxDim; stay far below so that a
		// run tests the parser, not the allocator.
		vocabSize = 1 + (vocabSize&0xffff)%4096
		v, err := parseTokenizerJSON("tokenizer.json", b, vocabSize)
		if err != nil {
			if !strings.Contains(err.Error(), "tokenizer.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(v.tokens) != vocabSize || len(v.types) != vocabSize {
			t.Fatalf("%d tokens, %d types for vocab_size %d", len(v.tokens), len(v.types), vocabSize)
		}
		for _, m := range v.merges {
			l, r, _ := strings.Cut(m, " ")
			if _, ok := v.byText[l]; !ok {
				t.Fatalf("merge %q: %q unknown", m, l)
			}
			if _, ok := v.byText[r]; !ok {
				t.Fatalf("merge %q: %q unknown", m, r)
			}
		}
		v.detectPre("")
	})
}

// FuzzChatTemplate loads a chat template as convert reads it from
// tokenizer_config.json (runtime/chat's FuzzDetect covers the runtime's
// side).
func FuzzChatTemplate(f *testing.F) {
	f.Add([]byte(`"{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"`))
	f.Add([]byte(`[{"name":"default","template":"<|start_header_id|>user<|end_header_id|>"},{"name":"tool_use","template":"x"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"llama3"`))
	f.Add([]byte(`{"not":"a template"}`))
	c := &Checkpoint{Dir: "/nonexistent-fuzz-dir"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tmpl, err := c.chatTemplate("tokenizer_config.json", raw)
		if err != nil {
			if !strings.Contains(err.Error(), "tokenizer_config.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(tmpl) > 3*len(raw) { // invalid UTF-8 bytes become U+FFFD
			t.Fatalf("a template of %d bytes from %d bytes of JSON", len(tmpl), len(raw))
		}
	})
}
