package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverProc is a bitnet serve child process on 127.0.0.1.
type serverProc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	mu   sync.Mutex
	log  strings.Builder
	done chan error
}

var servingLine = regexp.MustCompile(`on (http://[^ ]+) `)

func startServer(o options, parallel int) (*serverProc, error) {
	args := []string{"serve", "-m", o.model, "--host", "127.0.0.1", "--port", "0",
		"--parallel", strconv.Itoa(parallel), "-c", strconv.Itoa(o.ctx), "-t", strconv.Itoa(o.threads),
		"--queue", strconv.Itoa(2 * o.clients), "--shutdown-timeout", "10s"}
	cmd := exec.Command(o.bitnet, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &serverProc{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		s.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		u, err := url.Parse(a)
		if err != nil {
			s.kill()
			return nil, err
		}
		if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
			s.kill()
			return nil, fmt.Errorf("%w: %s", errNotLoopback, a)
		}
		s.base = a
	case err := <-s.done:
		return nil, fmt.Errorf("server exited before serving (%v):\n%s", err, s.output())
	case <-time.After(60 * time.Second):
		s.kill()
		return nil, fmt.Errorf("server did not start in 60 s:\n%s", s.output())
	}
	return s, nil
}

func (s *serverProc) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *serverProc) kill() { _ = s.cmd.Process.Kill() }

// stop sends SIGTERM and waits for a clean exit.
func (s *serverProc) stop() (time.Duration, error) {
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case err := <-s.done:
		return time.Since(start), err
	case <-time.After(30 * time.Second):
		s.kill()
		return time.Since(start), fmt.Errorf("no exit 30 s after SIGTERM")
	}
}

// rss reads the server's resident set size from /proc (Linux).
func (s *serverProc) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", s.cmd.Process.Pid)
}

// generated reads the server's count of sampled tokens from /health.
func (s *serverProc) generated(ctx context.Context) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h struct {
		Status string `json:"status"`
		Tokens int64  `json:"tokens_generated"`
	}
	if err := decodeJSON(resp.Body, &h); err != nil {
		return 0, err
	}
	if resp.StatusCode != 200 || h.Status != "ok" {
		return 0, fmt.Errorf("/health: %d %q", resp.StatusCode, h.Status)
	}
	return h.Tokens, nil
}
