package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/chat"
	"github.com/bitnet-go/bitnet/runtime/tokenizer"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newChatCmd) }

func newChatCmd() *cobra.Command {
	var (
		g      genFlags
		system string
		conv   bool
	)
	cmd := &cobra.Command{
		Use:   "chat -m FILE [-s SYSTEM]",
		Short: "Chat with a model interactively",
		Long: `chat reads your messages from stdin, one per line, formats the conversation
with the model's chat template and streams each reply to stdout. A reply ends
at the vocabulary's end-of-generation tokens (EOS, EOT, ...). Ctrl-C stops the
reply being written, not the program; Ctrl-D or /exit quits, /clear starts a
new conversation. When the conversation outgrows the context, the oldest turns
are dropped (and you are told).`,
		Example: `  bitnet chat -m ggml-model-i2_s.gguf -s "You are a helpful assistant"
  echo "Tell me a joke" | bitnet chat -m model.gguf --temp 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return chatLoop(cmd, &g, system)
		},
	}
	g.register(cmd, "")
	cmd.Flags().StringVarP(&system, "system", "s", "", "system prompt")
	cmd.Flags().BoolVar(&conv, "cnv", true, "accepted for bitnet.cpp compatibility (chat is always conversational)")
	_ = cmd.Flags().MarkHidden("cnv")
	return cmd
}

// chatLoop runs the conversation until EOF, /exit or Ctrl-C at the prompt.
func chatLoop(cmd *cobra.Command, g *genFlags, system string) error {
	if err := g.resolve(cmd); err != nil {
		return err
	}
	m, err := g.load(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer m.Close()
	tok := m.Tokenizer()
	tmpl, err := chat.ForTokenizer(tok, m.Config().Arch, g.model, g.chatTemplate)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "chat template %s; Ctrl-C stops a reply, Ctrl-D or /exit quits, /clear starts over\n", tmpl.Name())
	seq, err := m.NewSession(1).NewSequence()
	if err != nil {
		return err
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt)
	defer signal.Stop(sigc)
	lines := readLines(cmd.InOrStdin())

	c := &conversation{m: m, tok: tok, tmpl: tmpl, seq: seq, g: g, out: cmd.OutOrStdout(), log: stderr}
	if system != "" {
		c.system = []chat.Message{{Role: "system", Content: system}}
	}
	var total runtime.Stats
	defer func() { printStats(stderr, total) }()
	for {
		fmt.Fprint(stderr, "> ")
		var line string
		select {
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(stderr)
				return nil
			}
			line = l
		case <-sigc:
			fmt.Fprintln(stderr)
			return nil
		}
		switch strings.TrimSpace(line) {
		case "":
			continue
		case "/exit", "/quit":
			return nil
		case "/clear":
			c.turns = nil
			continue
		}
		st, err := c.reply(cmdContext(cmd), sigc, line)
		total.PromptTokens += st.PromptTokens
		total.PromptTime += st.PromptTime
		total.Generated += st.Generated
		total.GenerateTime += st.GenerateTime
		total.Stop = st.Stop
		if err != nil {
			return err
		}
	}
}

// readLines delivers stdin line by line; the channel closes at EOF.
func readLines(r io.Reader) <-chan string {
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			ch <- strings.TrimRight(sc.Text(), "\r")
		}
	}()
	return ch
}

// conversation is the chat state: the messages so far and the sequence
// holding their tokens.
type conversation struct {
	m      *runtime.Model
	tok    *tokenizer.Tokenizer
	tmpl   chat.Template
	seq    *runtime.Sequence
	g      *genFlags
	out    io.Writer
	log    io.Writer
	system []chat.Message
	turns  []chat.Message
}

// minReplyRoom is the context a prompt must leave free for the reply.
const minReplyRoom = 16

// prompt renders the conversation plus the next user message into tokens
// that fit the context, dropping the oldest turns when they do not.
func (c *conversation) prompt(user string) ([]int32, error) {
	msgs := append(c.turns, chat.Message{Role: "user", Content: user})
	limit := c.m.Context() - minReplyRoom
	dropped := 0
	for {
		all := append(append([]chat.Message(nil), c.system...), msgs...)
		text, err := c.tmpl.Apply(all, true)
		if err != nil {
			return nil, err
		}
		tokens := chat.Tokens(c.tok, text)
		if len(tokens) <= limit {
			if dropped > 0 {
				fmt.Fprintf(c.log, "[context full: dropped the %d oldest messages]\n", dropped)
			}
			c.turns = msgs
			return tokens, nil
		}
		if len(msgs) == 1 {
			return nil, fmt.Errorf("the message is %d tokens with the system prompt, more than the context allows (%d, keeping %d for the reply)", len(tokens), c.m.Context(), minReplyRoom)
		}
		// Drop the oldest user turn and the assistant reply after it.
		n := 1
		if len(msgs) > 2 && msgs[1].Role == "assistant" {
			n = 2
		}
		msgs, dropped = msgs[n:], dropped+n
	}
}

// reply answers one user message, streaming the reply; Ctrl-C (a value on
// sigc) stops the reply only.
func (c *conversation) reply(ctx context.Context, sigc <-chan os.Signal, user string) (runtime.Stats, error) {
	tokens, err := c.prompt(user)
	if err != nil {
		fmt.Fprintf(c.log, "[%v]\n", err)
		return runtime.Stats{}, nil
	}
	// Reuse the cached prefix the previous turns share with this prompt.
	n := commonPrefix(c.seq.Tokens(), tokens)
	if n == len(tokens) {
		n-- // at least one token must be evaluated to have logits
	}
	if err := c.seq.Truncate(n); err != nil {
		return runtime.Stats{}, err
	}
	turn, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sigc:
			cancel()
		case <-done:
		}
	}()
	dec := c.tok.NewDecoder()
	sw := &stopWriter{stops: c.tmpl.Stops()}
	w := bufio.NewWriter(c.out)
	st, err := runtime.Generate(turn, c.seq, tokens[n:], c.g.generateOptions(), func(id int32) error {
		text, stop := sw.add(dec.Next(id))
		w.WriteString(text)
		if err := w.Flush(); err != nil {
			return err
		}
		if stop {
			return runtime.ErrStop
		}
		return nil
	})
	if st.Stop != runtime.StopCallback {
		text, _ := sw.add(dec.Flush())
		w.WriteString(text + sw.flush())
	}
	w.WriteString("\n")
	w.Flush()
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() == nil:
		fmt.Fprintln(c.log, "[reply stopped]")
		err = nil
	case err == nil && st.Stop == runtime.StopContext:
		fmt.Fprintln(c.log, "[context full: reply cut; older turns will be dropped]")
	}
	c.turns = append(c.turns, chat.Message{Role: "assistant", Content: sw.text()})
	return st, err
}

func commonPrefix(a, b []int32) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// stopWriter cuts a streamed reply at the first stop string, holding back
// text that might be the start of one.
type stopWriter struct {
	stops   []string
	buf     strings.Builder
	emitted int
	stopped bool
}

// add appends s and returns the text that can be shown now, and whether a
// stop string was reached (the text is then everything before it).
func (w *stopWriter) add(s string) (string, bool) {
	if w.stopped {
		return "", true
	}
	w.buf.WriteString(s)
	all := w.buf.String()
	for _, stop := range w.stops {
		if stop == "" {
			continue
		}
		if i := strings.Index(all, stop); i >= 0 {
			out := ""
			if i > w.emitted {
				out = all[w.emitted:i]
			}
			w.buf.Reset()
			w.buf.WriteString(all[:i])
			w.emitted, w.stopped = i, true
			return out, true
		}
	}
	hold := 0
	for _, stop := range w.stops {
		for k := min(len(stop)-1, len(all)-w.emitted); k > hold; k-- {
			if strings.HasSuffix(all, stop[:k]) {
				hold = k
				break
			}
		}
	}
	out := all[w.emitted : len(all)-hold]
	w.emitted = len(all) - hold
	return out, false
}

// flush returns the held-back text at the end of the reply.
func (w *stopWriter) flush() string {
	all := w.buf.String()
	out := all[w.emitted:]
	w.emitted = len(all)
	return out
}

// text is the whole reply so far (without any stop string).
func (w *stopWriter) text() string { return w.buf.String() }
