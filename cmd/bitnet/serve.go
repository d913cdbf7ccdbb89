package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bitnet-go/bitnet/runtime"
	"github.com/bitnet-go/bitnet/runtime/server"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newServeCmd) }

func newServeCmd() *cobra.Command {
	var (
		modelPath, hfRepo, hfFile, revision, typeName string
		host, apiKey, alias, chatTemplate             string
		overrideKV                                    []string
		port, ctxLen, threads, parallel               int
		corsOrigins                                   []string
		strictModel                                   bool
		cfg                                           server.Config
		shutdownTimeout                               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve -m MODEL.gguf",
		Short: "Serve a model over an OpenAI-compatible HTTP API",
		Long: `serve loads a model and answers OpenAI-style requests with continuous batching:

  POST /v1/chat/completions   chat, with the model's chat template (stream or not)
  POST /v1/completions        raw text completion (stream or not)
  GET  /v1/models             the served model
  POST /tokenize, /detokenize, /apply-template   as llama-server
  GET  /health                {"status":"ok", ...}; 503 while shutting down
  GET  /metrics               Prometheus metrics (requests, tokens, queue, slots, latency)
  GET  /props                 server properties in llama-server's shape
  GET  /                      a chat page (embedded; asks for the API key if one is set)

Requests may name any model (clients default to names such as gpt-4o-mini);
--strict-model answers 404 to names other than --alias. --cors-origin lets web
pages on other origins call the API (repeat it, or give "*" for any).

Up to --parallel requests decode together: every step is one batched forward
pass in which each running request adds its next token and new requests add a
chunk of their prompt. Requests beyond that wait in a queue of --queue entries;
more get 429. -c is the context of each request (prompt plus reply); a prompt
that does not fit gets 400. The KV cache of a request grows with it and is freed
as soon as it ends or its client disconnects.

SIGINT or SIGTERM stops taking requests and lets running ones finish for up to
--shutdown-timeout, then cancels the rest (streams get an error event); a second
signal exits at once.

The API key may also come from $BITNET_API_KEY, which keeps it out of the
process list. Without a key, anyone who can reach --host can use the server.`,
		Example: `  bitnet serve -m ggml-model-i2_s.gguf --parallel 8
  bitnet serve --hf microsoft/BitNet-b1.58-2B-4T-gguf --host 0.0.0.0 --api-key "$KEY"
  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"Hello"}],"max_tokens":64}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (modelPath == "") == (hfRepo == "") {
				return errors.New("give exactly one of -m FILE and --hf REPO")
			}
			if parallel < 1 {
				return fmt.Errorf("--parallel must be at least 1, got %d", parallel)
			}
			for _, o := range corsOrigins {
				// Browsers send Origin as scheme://host[:port]; anything else
				// would never match, silently.
				if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "") {
					return fmt.Errorf("--cors-origin %q: give an origin such as https://app.example:8443 (no path), or *", o)
				}
			}
			if port < 0 || port > 65535 {
				return fmt.Errorf("--port %d is not a TCP port", port)
			}
			if hfRepo != "" {
				p, err := resolveHFModel(cmd, hfRepo, revision, hfFile, typeName)
				if err != nil {
					return err
				}
				modelPath = p
				if alias == "" {
					alias = hfRepo
				}
			}
			if alias == "" {
				alias = strings.TrimSuffix(filepath.Base(modelPath), ".gguf")
			}
			if apiKey == "" {
				apiKey = os.Getenv("BITNET_API_KEY")
			}
			overrides, err := parseOverrides(overrideKV)
			if err != nil {
				return err
			}
			return serve(cmd, serveOptions{
				model: modelPath, addr: net.JoinHostPort(host, strconv.Itoa(port)),
				load:     runtime.Options{Threads: threads, Context: ctxLen, BatchSize: cfg.BatchTokens, Map: mapWeights, CheckTensors: checkTensors, Overrides: overrides},
				parallel: parallel, shutdownTimeout: shutdownTimeout, chatTemplate: chatTemplate,
				cfg: func() server.Config {
					c := cfg
					c.ModelID, c.APIKey = alias, apiKey
					c.StrictModel, c.CORSOrigins, c.BuildInfo = strictModel, corsOrigins, "bitnet "+buildVersion()
					return c
				}(),
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&modelPath, "model", "m", "", "GGUF model file")
	f.StringVar(&hfRepo, "hf", "", "Hugging Face repository to serve (GGUF, or a checkpoint converted once)")
	f.StringVar(&hfFile, "hf-file", "", "with --hf: glob choosing the .gguf among several")
	f.StringVar(&revision, "revision", "main", "with --hf: branch, tag or commit")
	f.StringVar(&typeName, "type", "i2_s", "with --hf on a checkpoint: the weight type to convert to")
	f.StringVar(&host, "host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)")
	f.IntVar(&port, "port", 8080, "TCP port (0 picks a free one)")
	f.IntVarP(&ctxLen, "ctx-size", "c", 0, "context length of each request in tokens (default: the model's)")
	f.IntVarP(&threads, "threads", "t", 0, "threads of the matmuls (default: one per CPU)")
	f.IntVar(&parallel, "parallel", 4, "requests decoded together (KV cache slots)")
	f.StringVar(&apiKey, "api-key", "", "require 'Authorization: Bearer KEY' (default $BITNET_API_KEY)")
	f.StringVar(&alias, "alias", "", "model name in the API (default: the file name without .gguf)")
	f.StringVar(&chatTemplate, "chat-template", "", chatTemplateUsage)
	f.StringArrayVar(&overrideKV, "override-kv", nil, overrideKVUsage)
	f.BoolVar(&strictModel, "strict-model", false, "answer 404 to requests naming a model other than --alias")
	f.StringSliceVar(&corsOrigins, "cors-origin", nil, `origin allowed to call the API from a browser ("*" for any; repeatable)`)
	f.IntVar(&cfg.QueueLength, "queue", 64, "requests that may wait for a slot; more get 429")
	f.IntVar(&cfg.BatchTokens, "batch", 512, "most tokens in one forward pass")
	f.IntVar(&cfg.PrefillChunk, "prefill-chunk", 64, "most prompt tokens per step while other requests decode")
	f.IntVar(&cfg.MaxTokens, "max-tokens", 0, "cap on max_tokens, and its default (default: the context length)")
	f.IntVar(&cfg.MaxConnections, "max-connections", 0, "connections served at once; a few more only get /health (default: what ulimit -n allows)")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body", 4<<20, "largest request body in bytes")
	f.DurationVar(&cfg.RequestTimeout, "timeout", 10*time.Minute, "longest a request may take, queueing included")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM, how long running requests may finish")
	return cmd
}

type serveOptions struct {
	model, addr     string
	chatTemplate    string
	load            runtime.Options
	parallel        int
	cfg             server.Config
	shutdownTimeout time.Duration
}

func serve(cmd *cobra.Command, o serveOptions) error {
	stderr := cmd.ErrOrStderr()
	start := time.Now()
	m, err := runtime.Load(o.model, o.load)
	if err != nil {
		return err
	}
	defer m.Close()
	eng, err := server.NewRuntimeEngineTemplate(m, o.parallel, o.chatTemplate)
	if err != nil {
		return err
	}
	o.cfg.Logger = slog.Default()
	srv, err := server.New(eng, o.cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		srv.Close()
		return err
	}
	fmt.Fprintf(stderr, "loaded %s in %s: %s, %d threads, chat template %s\n",
		o.model, time.Since(start).Round(time.Millisecond), m.Config().Arch, m.Threads(), eng.ChatFormat())
	if o.cfg.APIKey == "" && !isLoopback(ln.Addr()) {
		fmt.Fprintf(stderr, "warning: listening on %s without --api-key: anyone who can reach it can use the model\n", ln.Addr())
	}
	// Scripts read the address from this line (with --port 0 it is the only
	// way to learn the port).
	fmt.Fprintf(stderr, "serving %q on http://%s (%d parallel, context %d per request)\n",
		o.cfg.ModelID, ln.Addr(), o.parallel, eng.ContextLength())

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	stop() // a second signal now ends the process at once
	st := srv.Stats()
	fmt.Fprintf(stderr, "shutting down: %d running and %d queued requests, waiting up to %s\n", st.Busy, st.Queued, o.shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(stderr, "stopped")
	return nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
