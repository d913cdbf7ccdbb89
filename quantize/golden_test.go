package quantize

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/nlpodyssey/safetensors"
)

// goldenDir locates ../shared/golden relative to this package (the test runs
// in the package directory) and skips when it is absent.
func goldenDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "golden")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("golden data not found at %s (it lives in the shared checkout beside the repo): %v", dir, err)
	}
	return dir
}

// hfModel is one golden model's Hugging Face checkpoint.
type hfModel struct {
	st     safetensors.SafeTensors
	config struct {
		NumHeads   int    `json:"num_attention_heads"`
		NumKVHeads int    `json:"num_key_value_heads"`
		ModelType  string `json:"model_type"`
		Arch       []string
		Quant      *struct {
			LinearClass string `json:"linear_class"`
		} `json:"quantization_config"`
	}
	arch string // "llama" for LlamaForCausalLM (q/k permuted by the converter)
}

func loadHF(t *testing.T, dir string) *hfModel {
	t.Helper()
	m := &hfModel{}
	cfg, err := os.ReadFile(filepath.Join(dir, "hf", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Architectures []string `json:"architectures"`
	}
	if err := json.Unmarshal(cfg, &m.config); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(cfg, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Architectures) > 0 && raw.Architectures[0] == "LlamaForCausalLM" {
		m.arch = "llama"
	}
	b, err := os.ReadFile(filepath.Join(dir, "hf", "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if m.st, err = safetensors.Deserialize(b); err != nil {
		t.Fatal(err)
	}
	return m
}

// hfName maps a GGUF projection name to its checkpoint name.
func hfName(ggufName string) (string, string, bool) {
	parts := strings.Split(ggufName, ".") // blk N what weight
	if len(parts) != 4 || parts[0] != "blk" {
		return "", "", false
	}
	proj := map[string]string{
		"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
		"attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
		"ffn_down": "mlp.down_proj",
	}[parts[2]]
	if proj == "" {
		return "", "", false
	}
	return "model.layers." + parts[1] + "." + proj + ".weight", parts[2], true
}

func bf16Floats(t *testing.T, b []byte) []float32 {
	t.Helper()
	out := make([]float32, len(b)/2)
	if err := BF16ToF32(out, b); err != nil {
		t.Fatal(err)
	}
	return out
}

// ternary returns the codes [M][K] and the multiplicative scale of one
// projection as the converter would produce them for bitnet.cpp.
func (m *hfModel) ternary(t *testing.T, name, role string, rows, cols int) ([]int8, float32) {
	t.Helper()
	tv, ok := m.st.Tensor(name)
	if !ok {
		t.Fatalf("%s not in checkpoint", name)
	}
	var codes []int8
	var scale float32
	switch tv.DType() {
	case safetensors.BF16:
		var err error
		codes, scale, err = Absmean(bf16Floats(t, tv.Data()))
		if err != nil {
			t.Fatal(err)
		}
	case safetensors.U8:
		codes = make([]int8, rows*cols)
		if err := UnpackHF(codes, tv.Data(), rows, cols); err != nil {
			t.Fatal(err)
		}
		ws, ok := m.st.Tensor(strings.TrimSuffix(name, "weight") + "weight_scale")
		if !ok || ws.DType() != safetensors.BF16 {
			t.Fatalf("%s: no bf16 weight_scale", name)
		}
		class := BitLinear
		if m.config.Quant != nil {
			var err error
			if class, err = ParseLinearClass(m.config.Quant.LinearClass); err != nil {
				t.Fatal(err)
			}
		}
		var err error
		if scale, err = class.Scale(bf16Floats(t, ws.Data())[0]); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("%s: unexpected dtype %v", name, tv.DType())
	}
	if m.arch == "llama" && (role == "attn_q" || role == "attn_k") {
		heads := m.config.NumHeads
		if role == "attn_k" {
			heads = m.config.NumKVHeads
		}
		codes = permuteRows(codes, rows, cols, heads)
	}
	return codes, scale
}

// permuteRows applies llama.cpp's q/k permutation for NORM rope (the
// converter's job, repeated here to line HF rows up with GGUF rows): within
// each head, GGUF row 2j+i is HF row i·(hd/2)+j.
func permuteRows(codes []int8, rows, cols, heads int) []int8 {
	out := make([]int8, len(codes))
	hd := rows / heads
	for h := range heads {
		for j := range hd / 2 {
			for i := range 2 {
				src := (h*hd + i*hd/2 + j) * cols
				dst := (h*hd + 2*j + i) * cols
				copy(out[dst:dst+cols], codes[src:src+cols])
			}
		}
	}
	return out
}

func relDiff(a, b float32) float64 {
	return math.Abs(float64(a)-float64(b)) / math.Max(math.Abs(float64(b)), 1e-30)
}

// TestGoldenTernary packs the ternary codes of each golden HF checkpoint and
// compares with every I2_S and TL2 tensor bitnet.cpp wrote: data bytes
// identical, scale within 1e-6 relative, TL2's zero padding identical (I2_S's
// 28 padding bytes are uninitialised in bitnet.cpp's files and skipped). It
// also unpacks the golden bytes and compares with the codes.
func TestGoldenTernary(t *testing.T) {
	root := goldenDir(t)
	files, _ := filepath.Glob(filepath.Join(root, "*", "bitnetcpp-*.gguf"))
	checked := map[string]int{}
	for _, path := range files {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer f.Close()
		var hf *hfModel
		rel, _ := filepath.Rel(root, path)
		for _, ti := range f.Tensors {
			if ti.Type != gguf.I2_S && ti.Type != gguf.TL2 {
				continue
			}
			if hf == nil {
				hf = loadHF(t, filepath.Dir(path))
			}
			name, role, ok := hfName(ti.Name)
			if !ok {
				t.Errorf("%s: %s: no checkpoint name", rel, ti.Name)
				continue
			}
			k, m := int(ti.Shape[0]), int(ti.Shape[1])
			codes, scale := hf.ternary(t, name, role, m, k)
			t.Run(rel+"/"+ti.Name, func(t *testing.T) {
				checkGoldenTensor(t, ti, codes, scale, m, k)
			})
			checked[ti.Type.String()]++
		}
	}
	if checked["I2_S"] == 0 || checked["TL2"] == 0 {
		t.Fatalf("expected I2_S and TL2 tensors in %s, checked %v", root, checked)
	}
	t.Logf("checked %v tensors", checked)
}

func checkGoldenTensor(t *testing.T, ti gguf.TensorInfo, codes []int8, scale float32, m, k int) {
	got := make([]byte, len(ti.Data))
	back := make([]int8, m*k)
	var gotScale float32
	var err error
	var dataEnd int
	switch ti.Type {
	case gguf.I2_S:
		dataEnd = m * k / 4
		if err = PackI2S(got, codes, m, k, scale); err != nil {
			t.Fatal(err)
		}
		gotScale, err = UnpackI2S(back, ti.Data, m, k)
	case gguf.TL2:
		p, perr := TL2Params(m, k)
		if perr != nil {
			t.Fatal(perr)
		}
		dataEnd = len(ti.Data) - 32
		if err = PackTL2(got, codes, m, k, p, scale); err != nil {
			t.Fatal(err)
		}
		gotScale, err = UnpackTL2(back, ti.Data, m, k, p)
	}
	if err != nil {
		t.Fatalf("unpack golden: %v", err)
	}
	for i := range dataEnd {
		if got[i] != ti.Data[i] {
			t.Fatalf("byte %d: packed 0x%02x, bitnet.cpp 0x%02x", i, got[i], ti.Data[i])
		}
	}
	if ti.Type == gguf.TL2 {
		for i := dataEnd + 4; i < len(got); i++ {
			if got[i] != ti.Data[i] {
				t.Fatalf("tail padding byte %d: 0x%02x, bitnet.cpp 0x%02x", i, got[i], ti.Data[i])
			}
		}
	}
	want := math.Float32frombits(binary.LittleEndian.Uint32(ti.Data[dataEnd:]))
	if gotScale != want {
		t.Fatalf("unpacked scale %v, bytes say %v", gotScale, want)
	}
	if d := relDiff(scale, want); d > 1e-6 {
		t.Errorf("scale %v, bitnet.cpp %v (rel diff %.2g)", scale, want, d)
	} else if scale != want {
		t.Logf("scale %v, bitnet.cpp %v: within tolerance, not bit-identical", scale, want)
	}
	for i := range codes {
		if back[i] != codes[i] {
			t.Fatalf("unpacked golden code [%d][%d] = %d, checkpoint gives %d", i/k, i%k, back[i], codes[i])
		}
	}
}
