package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/gguf"
)

// runCLIInput is runCLI with stdin and stderr captured.
func runCLIInput(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// dummyModel writes a tiny model with a real tokenizer.
func dummyModel(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dummy.gguf")
	layout := &convert.Layout{Name: "tiny", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2", Hidden: 256, FFN: 512,
		Layers: 1, Heads: 4, KVHeads: 2, HeadDim: 64, Vocab: 1024, Context: 64, RopeTheta: 500000, Tied: true}
	if err := convert.WriteDummyGGUF(context.Background(), path, convert.DummyOptions{Layout: layout, Type: gguf.I2_S, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunDummy(t *testing.T) {
	model := dummyModel(t)
	out, errOut, err := runCLIInput(t, "", "run", "-m", model, "-p", "Hello world", "-n", "5", "--temp", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Hello world") {
		t.Errorf("stdout %q does not start with the prompt", out)
	}
	if !strings.Contains(errOut, "tokens/s") {
		t.Errorf("stderr has no speeds: %q", errOut)
	}
	// Same seed, same text; the prompt can come from a file.
	pf := filepath.Join(t.TempDir(), "p.txt")
	if err := os.WriteFile(pf, []byte("Hello world"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _, err := runCLIInput(t, "", "run", "-m", model, "-f", pf, "-n", "8", "--seed", "3", "--temp", "1")
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := runCLIInput(t, "", "run", "-m", model, "-p", "Hello world", "-n", "8", "-s", "3", "--temp", "1")
	if a != b {
		t.Errorf("same seed, different text: %q vs %q", a, b)
	}
}

func TestRunErrors(t *testing.T) {
	model := dummyModel(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "-p", "x"}, `[model hf] is required`},
		{[]string{"run", "-m", filepath.Join(t.TempDir(), "none.gguf"), "-p", "x"}, "none.gguf"},
		{[]string{"run", "-m", model, "-c", "100", "-p", "x"}, "context 100 is longer than the model allows"},
		{[]string{"run", "-m", model, "-c", "4", "-p", "one two three four five six"}, "longer than the context (4; see -c)"},
		{[]string{"run", "-m", model, "-p", "x", "-f", "y"}, "none of the others can be"},
	}
	for _, tt := range tests {
		_, _, err := runCLIInput(t, "", tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestChatDummy(t *testing.T) {
	model := dummyModel(t)
	out, errOut, err := runCLIInput(t, "Hi there\n\nAnd again\n/exit\n", "chat", "-m", model, "-s", "Be brief", "-n", "4", "--temp", "0")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, "\n") != 2 {
		t.Errorf("want two replies, stdout %q", out)
	}
	if !strings.Contains(errOut, "chat template") {
		t.Errorf("stderr %q", errOut)
	}
	// A conversation longer than the context drops old turns with a message.
	long := strings.Repeat("word ", 10)
	_, errOut, err = runCLIInput(t, long+"\n"+long+"\n"+long+"\n", "chat", "-m", model, "-n", "4", "--temp", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "context full") {
		t.Errorf("no context message in %q", errOut)
	}
	_, errOut, err = runCLIInput(t, strings.Repeat("word ", 80)+"\n", "run", "-m", model, "--cnv", "-n", "2")
	if err != nil || !strings.Contains(errOut, "more than the context allows") {
		t.Errorf("too long a message: %v, %q", err, errOut)
	}
}

func TestRewriteCnv(t *testing.T) {
	saved := os.Args
	defer func() { os.Args = saved }()
	os.Args = []string{"bitnet", "run", "-m", "x", "-cnv", "-p", "-cnvx"}
	rewriteSingleDashCnv()
	if strings.Join(os.Args, " ") != "bitnet run -m x --cnv -p -cnvx" {
		t.Errorf("args %q", os.Args)
	}
}

func TestStopWriter(t *testing.T) {
	w := &stopWriter{stops: []string{"<|im_end|>", "User:"}}
	var shown strings.Builder
	for _, piece := range []string{"Hel", "lo <", "|im", "x", " Us", "er", ":", " more"} {
		text, stop := w.add(piece)
		shown.WriteString(text)
		if stop {
			break
		}
	}
	if got := shown.String(); got != "Hello <|imx " {
		t.Errorf("shown %q", got)
	}
	if w.text() != "Hello <|imx " {
		t.Errorf("text %q", w.text())
	}
}

// TestRunGolden: greedy text and --logits-out on bitnet.cpp's files match
// bitnet.cpp.
func TestRunGolden(t *testing.T) {
	root := goldenDir(t)
	for _, model := range []string{"bitnet-b158-tiny", "bitnet-silu-tiny", "llama-ternary-tiny"} {
		dir := filepath.Join(root, model)
		var prompt struct {
			Text   string  `json:"text"`
			Tokens []int32 `json:"tokens_with_bos"`
		}
		var greedy struct {
			PiecesHex []string `json:"pieces_hex"`
		}
		readJSONFile(t, filepath.Join(dir, "prompt.json"), &prompt)
		readJSONFile(t, filepath.Join(dir, "greedy.json"), &greedy)
		gguf := filepath.Join(dir, "bitnetcpp-i2_s.gguf")
		out, _, err := runCLIInput(t, "", "run", "-m", gguf, "-p", prompt.Text, "-n", "16", "--temp", "0", "--no-display-prompt", "-t", "1")
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for _, h := range greedy.PiecesHex {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, b...)
		}
		if out != string(want)+"\n" {
			t.Errorf("%s: greedy %q, bitnet.cpp %q", model, out, want)
		}
		lf := filepath.Join(t.TempDir(), "logits.f32")
		if _, _, err := runCLIInput(t, "", "run", "-m", gguf, "-p", prompt.Text, "--logits-out", lf); err != nil {
			t.Fatal(err)
		}
		got, ref := readFloats(t, lf), readFloats(t, filepath.Join(dir, "bitnetcpp-i2_s.logits.f32"))
		if len(got) != len(ref) {
			t.Fatalf("%s: %d logits, want %d", model, len(got), len(ref))
		}
		worst := 0.0
		for i := range got {
			worst = max(worst, math.Abs(float64(got[i]-ref[i])))
		}
		t.Logf("%s: --logits-out max|Δ| %.4g against bitnet.cpp", model, worst)
		if worst > 0.3 {
			t.Errorf("%s: logits differ by %g", model, worst)
		}
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func TestCPUInfoName(t *testing.T) {
	for _, c := range []struct{ info, want string }{
		{"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B14\n", "AMD EPYC 9B14"},
		{"processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n\nprocessor\t: 1\nCPU implementer\t: 0x42\nCPU part\t: 0xd40\n", "CPU implementer 0x41 part 0xd0c"},
		{"processor\t: 0\n", ""},
	} {
		if got := cpuinfoName(c.info); got != c.want {
			t.Errorf("cpuinfoName(%q) = %q, want %q", c.info, got, c.want)
		}
	}
}
