package main

import (
	"regexp"
	"strings"
	"testing"
)

// Flag values that cannot work are refused before the model loads.
func TestServeFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"origin with a path", []string{"--cors-origin", "https://app.example/"}, "--cors-origin"},
		{"origin without a scheme", []string{"--cors-origin", "app.example"}, "--cors-origin"},
		{"one bad origin among good", []string{"--cors-origin", "*", "--cors-origin", "http://localhost:3000?x"}, "--cors-origin"},
		{"no parallel", []string{"--parallel", "0"}, "--parallel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "-m", "/nonexistent.gguf"}, tt.args...)
			_, _, err := runCLIInput(t, "", args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
	// Good origins pass the check: the error is then the missing model.
	_, _, err := runCLIInput(t, "", "serve", "-m", "/nonexistent.gguf", "--cors-origin", "*", "--cors-origin", "http://localhost:3000")
	if err == nil || strings.Contains(err.Error(), "--cors-origin") {
		t.Errorf("good origins: %v", err)
	}
}

// dummy --vocab cuts the layout's vocabulary (the server tests' model).
func TestDummyVocab(t *testing.T) {
	path := t.TempDir() + "/m.gguf"
	if _, err := runCLI(t, "dummy", "--size", "125M", "--vocab", "512", "-q", "-o", path); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "inspect", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "[768, 512]") || !regexp.MustCompile(`vocab_size\s+uint32\s+512\n`).MatchString(out) {
		t.Errorf("inspect does not show a 512-token vocabulary:\n%s", out)
	}
	if _, err := runCLI(t, "dummy", "--size", "125M", "--vocab", "-3", "-q", "-o", path); err == nil {
		t.Error("a negative --vocab was accepted")
	}
}
