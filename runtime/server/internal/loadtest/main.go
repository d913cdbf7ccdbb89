// Command loadtest measures bitnet serve under concurrent streaming load,
// on the loopback interface only. For each --parallel value it starts the
// server on 127.0.0.1 with a free port, runs N clients that each stream
// chat completions back to back for a fixed time, samples the server's
// resident memory, and reports tokens per second (from the server's own
// counter, over the measured window), errors and RSS. It then checks that
// the server still answers, stops it with SIGTERM and checks a clean exit.
//
// It fails (exit 1) on any client error, on RSS growth beyond a bound, or
// when the highest --parallel value is not --min-speedup times faster than
// the lowest.
//
// With -json-schema-every N every Nth request asks for a json_schema
// response_format; those replies are validated against the schema, and
// any invalid one fails the run.
//
//	go build -o bitnet ./cmd/bitnet
//	./bitnet dummy --size 125M --vocab 512 -q -o /tmp/m.gguf
//	go run ./runtime/server/internal/loadtest -bitnet ./bitnet -model /tmp/m.gguf
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type options struct {
	bitnet, model string
	parallel      []int
	clients       int
	duration      time.Duration
	warmup        time.Duration
	maxTokens     int
	ctx           int
	threads       int
	minSpeedup    float64
	rssSlackMiB   float64
	schemaEvery   int // every schemaEvery-th request is constrained by a JSON Schema
}

func main() {
	var o options
	var par string
	flag.StringVar(&o.bitnet, "bitnet", "./bitnet", "bitnet binary")
	flag.StringVar(&o.model, "model", "", "GGUF model to serve (required)")
	flag.StringVar(&par, "parallel", "1,8", "comma-separated --parallel values to measure")
	flag.IntVar(&o.clients, "clients", 32, "concurrent streaming clients")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured time per --parallel value")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "load before the measured window")
	flag.IntVar(&o.maxTokens, "max-tokens", 64, "max_tokens of each request")
	flag.IntVar(&o.ctx, "ctx", 512, "server context per request (-c)")
	flag.IntVar(&o.threads, "threads", 0, "server threads (-t; 0 = one per CPU)")
	flag.Float64Var(&o.minSpeedup, "min-speedup", 2, "required tokens/s ratio of the last --parallel value to the first")
	flag.Float64Var(&o.rssSlackMiB, "rss-slack", 16, "allowed RSS growth in MiB (beyond 10%) from the first half of the window's peak to the second half's")
	flag.IntVar(&o.schemaEvery, "json-schema-every", 0, "make every Nth request a json_schema response_format request (4: a quarter; 0: none); constrained replies are validated")
	flag.Parse()
	for _, s := range strings.Split(par, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatalf("bad -parallel value %q", s)
		}
		o.parallel = append(o.parallel, n)
	}
	if o.model == "" {
		fatalf("-model is required")
	}
	ok := true
	var results []result
	for _, p := range o.parallel {
		r, err := measure(context.Background(), o, p)
		if err != nil {
			fatalf("parallel=%d: %v", p, err)
		}
		fmt.Println(r)
		results = append(results, r)
		if r.errors > 0 {
			ok = false
			fmt.Printf("FAIL parallel=%d: %d client errors, e.g. %s\n", p, r.errors, strings.Join(r.samples, "; "))
		}
		// Bounded means no trend: once warm, the second half of the run
		// needs no more memory than the first (GC and slot reuse settle
		// within the warm-up), not that RSS is constant.
		if bound := float64(r.rssPeak1)*1.10 + o.rssSlackMiB*(1<<20); float64(r.rssPeak2) > bound {
			ok = false
			fmt.Printf("FAIL parallel=%d: RSS still growing: peak %.1f MiB in the second half of the window, %.1f in the first\n",
				p, mib(r.rssPeak2), mib(r.rssPeak1))
		}
		if r.schema != nil && (len(r.schema.invalid) > 0 || r.schema.valid == 0) {
			ok = false
			fmt.Printf("FAIL parallel=%d: constrained replies: %s %s\n", p, r.schema, strings.Join(r.schema.invalid, "; "))
		}
		if r.problem != "" {
			ok = false
			fmt.Printf("FAIL parallel=%d: %s\n", p, r.problem)
		}
	}
	if len(results) > 1 {
		first, last := results[0], results[len(results)-1]
		speedup := last.tokPerSec / first.tokPerSec
		fmt.Printf("speedup parallel=%d vs parallel=%d: %.2fx (required %.2fx)\n", last.parallel, first.parallel, speedup, o.minSpeedup)
		if !(speedup >= o.minSpeedup) {
			ok = false
			fmt.Println("FAIL: speedup below the requirement")
		}
	}
	if !ok {
		fmt.Println("loadtest: FAIL")
		os.Exit(1)
	}
	fmt.Println("loadtest: PASS")
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadtest: "+format+"\n", args...)
	os.Exit(2)
}

var errNotLoopback = errors.New("the server is not on a loopback address")
