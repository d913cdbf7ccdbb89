package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newTokenizeCmd) }

func newTokenizeCmd() *cobra.Command {
	var (
		model, prompt, promptFile, chatFile, chatTemplate string
		noBOS, asJSON                                     bool
		overrideKV                                        []string
	)
	cmd := &cobra.Command{
		Use:   "tokenize -m FILE [-p TEXT | -f FILE | --chat MESSAGES.json]",
		Short: "Print the token ids of a text, or of a conversation rendered with the chat template",
		Long: `tokenize reads only the tokenizer of a GGUF (no weights) and prints the ids the
model sees, one "id -> 'piece'" per line as llama-tokenize does; --json prints
{"ids": [...], "pieces": [...]}. Special token texts such as <|eot_id|> become
their tokens. BOS is added where the vocabulary asks for it, unless --no-bos.

--chat renders an OpenAI-style messages array (a JSON file, "-" for stdin) with
the model's chat template and the generation prompt, and prints the text and
its ids ({"text": "...", "ids": [...]} with --json), BOS included where the
model adds one and never twice.`,
		Example: `  bitnet tokenize -m ggml-model-i2_s.gguf -p "Hello world"
  bitnet tokenize -m model.gguf -f prompt.txt --json | jq '.ids | length'
  echo '[{"role":"user","content":"Hi"}]' | bitnet tokenize -m model.gguf --chat - --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			overrides, err := parseOverrides(overrideKV)
			if err != nil {
				return err
			}
			f, err := gguf.Open(model)
			if err != nil {
				return err
			}
			defer f.Close()
			for _, kv := range overrides {
				f.Set(kv)
			}
			tok, err := tokenizer.FromGGUF(f)
			if err != nil {
				return fmt.Errorf("%s: tokenizer: %w", model, err)
			}
			for _, note := range tok.Inferred() {
				slog.Debug("tokenizer: "+note, "file", model)
			}
			out := cmd.OutOrStdout()
			if chatFile != "" {
				if noBOS {
					return errors.New("--no-bos does not apply to --chat: the ids are those the model sees")
				}
				return tokenizeChat(out, cmd.InOrStdin(), tok, f.Arch(), model, chatFile, chatTemplate, asJSON)
			}
			if chatTemplate != "" {
				return errors.New("--chat-template needs --chat")
			}
			text := prompt
			if promptFile != "" {
				b, err := os.ReadFile(promptFile)
				if err != nil {
					return err
				}
				text = string(b)
			} else if !cmd.Flags().Changed("prompt") {
				return errors.New("give the text with -p TEXT or -f FILE, or a conversation with --chat FILE")
			}
			ids := tok.Encode(text, !noBOS, true)
			return printTokens(out, tok, ids, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&model, "model", "m", "", "GGUF model file (only its tokenizer is read)")
	f.StringVarP(&prompt, "prompt", "p", "", "text to tokenize")
	f.StringVarP(&promptFile, "file", "f", "", "read the text from a file")
	f.StringVar(&chatFile, "chat", "", "render this JSON messages array with the chat template (- for stdin)")
	f.StringVar(&chatTemplate, "chat-template", "", chatTemplateUsage)
	f.BoolVar(&noBOS, "no-bos", false, "do not add BOS, even where the vocabulary asks for it")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringArrayVar(&overrideKV, "override-kv", nil, overrideKVUsage)
	_ = cmd.MarkFlagRequired("model")
	cmd.MarkFlagsMutuallyExclusive("prompt", "file", "chat")
	return cmd
}

// printTokens writes ids and their pieces.
func printTokens(w io.Writer, tok *tokenizer.Tokenizer, ids []int32, asJSON bool) error {
	pieces := make([]string, len(ids))
	for i, id := range ids {
		pieces[i] = pieceText(tok, id)
	}
	if asJSON {
		return writeJSONLine(w, struct {
			IDs    []int32  `json:"ids"`
			Pieces []string `json:"pieces"`
		}{nonNil(ids), pieces})
	}
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, "%6d -> '%s'\n", id, pieces[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pieceText is token id as text: its decoded bytes, or, for a byte token
// that is part of a longer UTF-8 sequence, the byte as <0xNN> (the form
// SentencePiece vocabularies spell byte tokens in), so that the output is
// valid UTF-8 and says which byte it is.
func pieceText(tok *tokenizer.Tokenizer, id int32) string {
	p := tok.Piece(id)
	if utf8.Valid(p) {
		return string(p)
	}
	var b strings.Builder
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n <= 1 {
			fmt.Fprintf(&b, "<0x%02X>", p[0])
			n = 1
		} else {
			b.Write(p[:n])
		}
		p = p[n:]
	}
	return b.String()
}

// tokenizeChat renders the messages of file with the model's (or the
// overriding) chat template and prints the text and the ids.
func tokenizeChat(w io.Writer, stdin io.Reader, tok *tokenizer.Tokenizer, arch, model, file, override string, asJSON bool) error {
	var (
		data []byte
		err  error
	)
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	var msgs []json.RawMessage
	if err := json.Unmarshal(data, &msgs); err != nil {
		return fmt.Errorf("%s: want a JSON array of messages: %w", file, err)
	}
	tmpl, err := chat.ForTokenizer(tok, arch, model, override)
	if err != nil {
		return err
	}
	slog.Debug("chat template", "template", tmpl.Name())
	text, err := tmpl.Render(data, chat.Options{AddGenerationPrompt: true})
	if err != nil {
		return err
	}
	ids := chat.Tokens(tok, text)
	if asJSON {
		return writeJSONLine(w, struct {
			Text string  `json:"text"`
			IDs  []int32 `json:"ids"`
		}{text, nonNil(ids)})
	}
	idText := make([]string, len(ids))
	for i, id := range ids {
		idText[i] = fmt.Sprint(id)
	}
	_, err = fmt.Fprintf(w, "%s\n\n%d tokens: [%s]\n", text, len(ids), strings.Join(idText, ", "))
	return err
}

// writeJSONLine writes v as one line of JSON, HTML characters unescaped
// (the text is a prompt, not a web page).
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}
