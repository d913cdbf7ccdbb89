package hub

import "testing"

// TestMatchGlob follows Python's fnmatch, which huggingface_hub uses for
// allow/ignore patterns.
func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pat, path string
		want      bool
	}{
		{"*.json", "config.json", true},
		{"*.json", "sub/tokenizer.json", true}, // '*' crosses '/'
		{"*.gguf", "model.gguf.part", false},
		{"sub/", "sub/a/b.txt", true},
		{"sub/", "subway/a.txt", false},
		{"model-?.bin", "model-1.bin", true},
		{"model-?.bin", "model-10.bin", false},
		{"[abc]*", "banana", true},
		{"[!abc]*", "banana", false},
		{"[!abc]*", "date", true},
		{"[a-c]x", "bx", true},
		{"[", "[", true},
		{"a[", "a[", true},
		{"*i2_s*", "ggml-model-i2_s.gguf", true},
		{"*I2_S*", "ggml-model-i2_s.gguf", false}, // case-sensitive, as on POSIX
		{"a.b", "axb", false},
		{"(x)+", "(x)+", true},
		{"ü*", "über.txt", true},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pat, tt.path); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pat, tt.path, got, tt.want)
		}
	}
}
