// Command render is the Go half of the chat-template conformance test
// (test/jinja/run.sh): it renders every case of a corpus written by
// corpus.mjs with runtime/chat and compares the text byte for byte with
// what @huggingface/jinja rendered. With -builtins DIR it instead writes
// the built-in formats as DIR/bitnet-builtin-NAME/tokenizer_config.json and
// a tiny dummy checkpoint as DIR/bitnet-dummy (its tokenizer_config.json
// carries the template bitnet dummy writes into every dummy GGUF), so that
// the corpus checks those templates too.
//
// It exits 1 when any case differs, printing the first differing bytes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bitnet-go/bitnet/convert"
	"github.com/bitnet-go/bitnet/runtime/chat"
)

type corpus struct {
	Now       time.Time `json:"now"`
	Templates []struct {
		Name     string  `json:"name"`
		Source   string  `json:"source"`
		Template string  `json:"template"`
		BOS      *string `json:"bos_token"`
		EOS      *string `json:"eos_token"`
	} `json:"templates"`
	Cases []struct {
		Template     string                     `json:"template"`
		Conversation string                     `json:"conversation"`
		Context      map[string]json.RawMessage `json:"context"`
		Expected     *string                    `json:"expected"`
		Error        *string                    `json:"error"`
	} `json:"cases"`
}

func main() {
	builtins := flag.String("builtins", "", "write the built-in formats as DIR/NAME/tokenizer_config.json and exit")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: render CASES.json | render -builtins DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *builtins != "" {
		if err := writeBuiltins(*builtins); err != nil {
			fmt.Fprintln(os.Stderr, "render:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ok, err := check(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func writeBuiltins(dir string) error {
	tiny := &convert.Layout{
		Name: "tiny", HFArchitecture: "BitNetForCausalLM", HiddenAct: "relu2",
		Hidden: 64, FFN: 128, Layers: 1, Heads: 2, KVHeads: 1, HeadDim: 32,
		Vocab: 512, Context: 64, RopeTheta: 500000, Tied: true,
	}
	if err := convert.WriteDummyHF(context.Background(), filepath.Join(dir, "bitnet-dummy"), convert.DummyOptions{Layout: tiny}); err != nil {
		return err
	}
	for _, name := range chat.Names() {
		t, _ := chat.Named(name)
		cfg, err := json.Marshal(map[string]string{
			"chat_template": t.Source(), "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
		})
		if err != nil {
			return err
		}
		d := filepath.Join(dir, "bitnet-builtin-"+name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, "tokenizer_config.json"), cfg, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// check renders every case and reports; a case where @huggingface/jinja
// raised must raise here too, except for the one documented difference
// of the engine (null content concatenated as "", see runtime/chat).
func check(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	var c corpus
	if err := json.Unmarshal(data, &c); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	tmpls := map[string]chat.Template{}
	for _, t := range c.Templates {
		parsed, err := chat.Parse(t.Name, t.Template)
		if err != nil {
			return false, err
		}
		bos, eos := "", ""
		if t.BOS != nil {
			bos = *t.BOS
		}
		if t.EOS != nil {
			eos = *t.EOS
		}
		tmpls[t.Name] = parsed.WithTokens(bos, eos)
	}
	var identical, bothRaise, nullContent, failed int
	perTemplate := map[string]int{}
	for _, k := range c.Cases {
		tmpl, ok := tmpls[k.Template]
		if !ok {
			return false, fmt.Errorf("case %q names unknown template %q", k.Conversation, k.Template)
		}
		opts, messages, err := options(k.Context)
		if err != nil {
			return false, fmt.Errorf("case %s / %s: %w", k.Template, k.Conversation, err)
		}
		opts.Now = c.Now
		got, err := tmpl.Render(messages, opts)
		label := fmt.Sprintf("%s / %s / add_generation_prompt=%v", k.Template, k.Conversation, opts.AddGenerationPrompt)
		switch {
		case k.Error != nil && err != nil:
			bothRaise++
		case k.Error != nil && hasNullContent(messages):
			nullContent++
		case k.Error != nil:
			failed++
			fmt.Printf("DIFF %s: @huggingface/jinja raised %q, we rendered %q\n", label, *k.Error, clip(got))
		case err != nil:
			failed++
			fmt.Printf("DIFF %s: we raised %v\n", label, err)
		case got != *k.Expected:
			failed++
			i := 0
			for i < len(got) && i < len(*k.Expected) && got[i] == (*k.Expected)[i] {
				i++
			}
			fmt.Printf("DIFF %s at byte %d:\n  ours %q\n  want %q\n", label, i, clip(got[max(0, i-40):]), clip((*k.Expected)[max(0, i-40):]))
		default:
			identical++
			perTemplate[k.Template]++
		}
	}
	for _, t := range c.Templates {
		fmt.Printf("  %-28s %3d identical renderings  (%s)\n", t.Name, perTemplate[t.Name], t.Source)
	}
	fmt.Printf("%d cases: %d byte-identical renderings, %d raised by both engines, %d null-content cases @huggingface/jinja raises on and we render, %d differences\n",
		len(c.Cases), identical, bothRaise, nullContent, failed)
	return failed == 0, nil
}

// options splits a case's template context into apply_chat_template's
// arguments: messages, add_generation_prompt, tools, and the rest as extra
// variables. bos_token and eos_token come with the template.
func options(ctx map[string]json.RawMessage) (chat.Options, json.RawMessage, error) {
	var o chat.Options
	if err := json.Unmarshal(ctx["add_generation_prompt"], &o.AddGenerationPrompt); err != nil {
		return o, nil, fmt.Errorf("add_generation_prompt: %w", err)
	}
	o.Tools = ctx["tools"]
	for k, v := range ctx {
		switch k {
		case "messages", "add_generation_prompt", "tools", "bos_token", "eos_token":
		default:
			if o.Vars == nil {
				o.Vars = map[string]json.RawMessage{}
			}
			o.Vars[k] = v
		}
	}
	return o, ctx["messages"], nil
}

// hasNullContent reports whether a message has "content": null (an
// assistant turn that only calls tools).
func hasNullContent(messages json.RawMessage) bool {
	var msgs []map[string]json.RawMessage
	if json.Unmarshal(messages, &msgs) != nil {
		return false
	}
	for _, m := range msgs {
		if c, ok := m["content"]; ok && strings.TrimSpace(string(c)) == "null" {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}
