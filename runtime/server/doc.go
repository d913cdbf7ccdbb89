// Package server is an OpenAI-compatible HTTP server over a loaded model,
// built on net/http alone.
//
// It serves POST /v1/chat/completions and POST /v1/completions (streamed as
// server-sent events or as one JSON body), GET /v1/models, GET /health,
// GET /metrics (Prometheus), GET /props (llama-server's shape) and a chat
// page at GET /, embedded in the binary. A request field the server does
// not know is refused with a 400 naming it, never silently ignored.
// Errors use OpenAI's JSON shape, {"error": {"message", "type", "param",
// "code"}}, so that OpenAI client libraries report them as API errors.
//
// # Continuous batching
//
// One scheduler goroutine owns the model. Up to Engine.Slots sequences run
// at once; every step is a single batched forward pass (Engine.Step) in which
// each decoding sequence contributes its one new token and sequences still
// reading their prompt contribute a chunk of it. Requests wait in a bounded
// queue and join between steps; a sequence that finishes, or whose client
// goes away, releases its slot and KV cache before the next step. Prompt
// chunks are kept small while other sequences are decoding, so a long prompt
// delays the running streams by a bounded amount per step instead of
// stopping them until the whole prompt is read.
//
// The scheduler never waits for a client: generated text goes into a
// per-request buffer that the HTTP handler drains at its own pace, so one
// slow reader cannot stall the batch.
//
// # The engine seam
//
// The server talks to the model through the narrow Engine interface
// (tokenization, chat templates, end-of-generation, one batched step, slot
// release). NewRuntimeEngine adapts a runtime model to it; tests use a fake
// with deterministic logits.
package server
