package convert

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
)

// editJSON rewrites a JSON file of a checkpoint through f.
func editJSON(t *testing.T, path string, f func(m map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editHeader rewrites a safetensors header through f, keeping the data.
func editHeader(t *testing.T, path string, f func(h map[string]map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	f(h)
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, uint64(len(hb)))
	out.Write(hb)
	out.Write(b[8+n:])
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pokeTensor overwrites bytes of a tensor's data in a safetensors file.
func pokeTensor(t *testing.T, path, name string, at int, data []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var ti struct {
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(h[name], &ti); err != nil {
		t.Fatalf("tensor %s: %v", name, err)
	}
	copy(b[8+int(n)+ti.DataOffsets[0]+at:], data)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenCheckpoints(t *testing.T) {
	masters := writeTinyHF(t, tinyB158, DummyOptions{})
	sharded := writeTinyHF(t, tinySilu, DummyOptions{MaxShardBytes: 300 << 10})
	packed := writeTinyHF(t, tinyLlama, DummyOptions{Packed: true})
	if n := len(dirEntries(t, sharded)); n < 8 {
		t.Fatalf("sharded fixture has only %d files", n)
	}
	st := func(dir string) string { return filepath.Join(dir, "model.safetensors") }
	nan := []byte{0xc0, 0x7f} // bf16 quiet NaN
	cases := []struct {
		name   string
		base   string
		break_ func(t *testing.T, dir string)
		want   string
	}{
		{"missing config", masters, func(t *testing.T, d string) { os.Remove(filepath.Join(d, "config.json")) },
			"config.json is missing"},
		{"config not JSON", masters, func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "config.json"), []byte("{\n  \"hidden_size\": 256,\n  oops\n}"), 0o644)
		},
			"line 3 column"},
		{"unknown architecture", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["architectures"] = []string{"GPT2LMHeadModel"} })
		}, `architecture "GPT2LMHeadModel" is not supported`},
		{"llama without bitnet quantization", packed, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { delete(m, "quantization_config") })
		}, "non-ternary"},
		{"more layers in the config than in the tensors", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["num_hidden_layers"] = 20000 })
		}, `"num_hidden_layers" = 20000, but the tensors hold only 2 layers`},
		{"context length beyond uint32", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) {
				m["max_position_embeddings"] = json.Number("4611686018427387904") // 2^62
			})
		}, `"max_position_embeddings" = 4611686018427387904 is out of range`},
		{"unknown activation", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["hidden_act"] = "gelu" })
		}, `hidden_act "gelu" is not supported`},
		{"unknown linear_class", packed, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) {
				m["quantization_config"].(map[string]any)["linear_class"] = "fancylinear"
			})
		}, "cannot tell what weight_scale means"},
		{"shard listed but absent", sharded, func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "model-00002-of-"+shardCount(t, d)+".safetensors"))
		}, "lists shard model-00002-of-"},
		{"index names the wrong shard", sharded, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "model.safetensors.index.json"), func(m map[string]any) {
				m["weight_map"].(map[string]any)["model.norm.weight"] = "model-00001-of-" + shardCount(t, d) + ".safetensors"
			})
		}, `lists tensor "model.norm.weight" in model-00001-of-`},
		{"no weights", masters, func(t *testing.T, d string) { os.Remove(st(d)) },
			"no model.safetensors"},
		{"truncated safetensors", masters, func(t *testing.T, d string) {
			fi, _ := os.Stat(st(d))
			os.Truncate(st(d), fi.Size()-1000)
		}, "points outside the file"},
		{"safetensors shorter than its header", masters, func(t *testing.T, d string) { os.Truncate(st(d), 100) },
			"runs past the end of the file"},
		{"header points outside the file", masters, func(t *testing.T, d string) {
			editHeader(t, st(d), func(h map[string]map[string]any) {
				ti := h["model.norm.weight"]
				offs := ti["data_offsets"].([]any)
				offs[1] = offs[1].(float64) + 1000
				ti["shape"] = []any{256 + 500}
			})
		}, `tensor "model.norm.weight": data [`},
		{"tensor with the wrong shape", masters, func(t *testing.T, d string) {
			editHeader(t, st(d), func(h map[string]map[string]any) {
				h["model.layers.1.self_attn.q_proj.weight"]["shape"] = []any{128, 512}
			})
		}, `"model.layers.1.self_attn.q_proj.weight" has shape [128 512], expected [256 256]`},
		{"unexpected tensor", masters, func(t *testing.T, d string) {
			editHeader(t, st(d), func(h map[string]map[string]any) {
				h["model.layers.0.mlp.extra.weight"] = h["model.layers.0.mlp.ffn_sub_norm.weight"]
				delete(h, "model.layers.0.mlp.ffn_sub_norm.weight")
			})
		}, "model.layers.0.mlp.ffn_sub_norm.weight or"},
		{"NaN in a projection", masters, func(t *testing.T, d string) {
			pokeTensor(t, st(d), "model.layers.1.mlp.up_proj.weight", 2*1000, nan)
		}, `"model.layers.1.mlp.up_proj.weight": element 1000 is NaN or infinite`},
		{"NaN in the embedding", masters, func(t *testing.T, d string) {
			pokeTensor(t, st(d), "model.embed_tokens.weight", 2*77, nan)
		}, `"model.embed_tokens.weight": element 77 is NaN or infinite`},
		{"packed weight without its scale", packed, func(t *testing.T, d string) {
			editHeader(t, st(d), func(h map[string]map[string]any) {
				h["model.layers.0.self_attn.v_proj.weight_scalx"] = h["model.layers.0.self_attn.v_proj.weight_scale"]
				delete(h, "model.layers.0.self_attn.v_proj.weight_scale")
			})
		}, "has no model.layers.0.self_attn.v_proj.weight_scale tensor"},
		{"zero weight_scale", packed, func(t *testing.T, d string) {
			pokeTensor(t, st(d), "model.layers.0.mlp.down_proj.weight_scale", 0, []byte{0, 0})
		}, "model.layers.0.mlp.down_proj.weight_scale"},
		{"tokenizer.json with no merges", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "tokenizer.json"), func(m map[string]any) {
				m["model"].(map[string]any)["merges"] = []any{}
			})
		}, "BPE model has no merges"},
		{"merge of unknown tokens", masters, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "tokenizer.json"), func(m map[string]any) {
				model := m["model"].(map[string]any)
				model["merges"] = append(model["merges"].([]any), "zz qq")
			})
		}, `"zz" is not in the vocabulary`},
		{"no tokenizer", masters, func(t *testing.T, d string) { os.Remove(filepath.Join(d, "tokenizer.json")) },
			"no tokenizer"},
		{"corrupt tokenizer.model", masters, func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "tokenizer.model"), []byte{0x0a, 0xff, 0xff}, 0o644)
		}, "not a valid SentencePiece model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, c.base)
			c.break_(t, dir)
			outDir := t.TempDir()
			err := Convert(context.Background(), dir, filepath.Join(outDir, "out.gguf"), Options{Type: gguf.I2_S})
			if err == nil {
				t.Fatal("Convert succeeded on a broken checkpoint")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			if left := dirEntries(t, outDir); len(left) != 0 {
				t.Errorf("output directory not empty after failure: %v", left)
			}
		})
	}
}

// shardCount returns the YYYYY of a sharded checkpoint's file names.
func shardCount(t *testing.T, dir string) string {
	t.Helper()
	for _, n := range dirEntries(t, dir) {
		if m := shardPattern.FindStringSubmatch(n); m != nil {
			return m[2]
		}
	}
	t.Fatal("no shards")
	return ""
}

// TestHostileLayerCountIsCheap: a config.json claiming millions of layers
// over a tiny checkpoint is refused before anything proportional to the
// claim is allocated (it used to cost 23 GB and a minute).
func TestHostileLayerCountIsCheap(t *testing.T) {
	dir := copyDir(t, writeTinyHF(t, tinyB158, DummyOptions{}))
	editJSON(t, filepath.Join(dir, "config.json"), func(m map[string]any) { m["num_hidden_layers"] = 4194304 })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := OpenCheckpoint(dir)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "num_hidden_layers") {
		t.Fatalf("got %v, want an error naming num_hidden_layers", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Fatalf("refusing the config allocated %d MB", got>>20)
	}
}

// TestMetadataRangeChecked: an integer that does not fit its GGUF type is
// an error naming the key, whichever path produced it.
func TestMetadataRangeChecked(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    modelParams
		want string
	}{
		{"context over uint32", modelParams{arch: "bitnet", vocab: 10, context: 1 << 62}, "bitnet.context_length = 4611686018427387904"},
		{"negative size", modelParams{arch: "llama", vocab: -1}, "llama.vocab_size = -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.kv()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error with %q", err, tt.want)
			}
		})
	}
	if _, err := (&modelParams{arch: "bitnet", vocab: 10, context: 4096, hidden: 8, heads: 2, headDim: 4}).kv(); err != nil {
		t.Fatal(err)
	}
}
