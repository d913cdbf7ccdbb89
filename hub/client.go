package hub

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEndpoint is the Hub used when neither Client.Endpoint nor
// HF_ENDPOINT says otherwise.
const DefaultEndpoint = "https://huggingface.co"

// Client talks to one Hub endpoint and keeps files in one cache. The zero
// value is usable (it downloads from DefaultEndpoint into the default cache
// without a token); NewFromEnv fills it the way huggingface_hub would.
// A Client is safe for concurrent use once its fields are set.
type Client struct {
	// Endpoint is the Hub's base URL, e.g. "https://huggingface.co" or a
	// mirror. Authorization is only ever sent to this host.
	Endpoint string
	// Token is a Hugging Face access token; empty means anonymous.
	Token string
	// CacheDir is the huggingface_hub cache root (HF_HUB_CACHE).
	CacheDir string
	// Offline serves everything from the cache and never touches the
	// network (HF_HUB_OFFLINE).
	Offline bool
	// HTTP is the client used for requests; nil means a default one. Its
	// redirect policy is ignored: redirects are followed by hand so that
	// credentials never leave the Hub's host.
	HTTP *http.Client
	// UserAgent is sent with every request; empty means "bitnet".
	UserAgent string
	// Progress, when it is a terminal, receives a progress bar per file and
	// one for the total. Anything else (nil, a pipe, a file) gets nothing.
	Progress io.Writer
	// Workers bounds the files downloaded at once; 0 means 8.
	Workers int
	// MaxRetries is how many times a failed request (network error, 408,
	// 429, 5xx, a connection dropped mid-file) is retried; 0 means 5 and a
	// negative value disables retries.
	MaxRetries int
	// RetryBackoff is the first wait between retries, doubled each time up
	// to 8 s, unless the server asks for a longer one with Retry-After;
	// 0 means 1 s.
	RetryBackoff time.Duration

	// sleep waits between retries; tests replace it to observe the waits.
	sleep func(ctx context.Context, d time.Duration) error
	// symlink creates snapshot pointers; tests replace it to simulate a
	// filesystem without symlinks.
	symlink func(oldname, newname string) error
}

// NewFromEnv returns a Client configured from the environment variables
// huggingface_hub reads:
//
//	HF_ENDPOINT     Hub base URL (default https://huggingface.co)
//	HF_HOME         root of Hugging Face state (default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
//	HF_HUB_CACHE    model cache (default $HF_HOME/hub; HUGGINGFACE_HUB_CACHE is honoured too)
//	HF_TOKEN        access token (then HUGGING_FACE_HUB_TOKEN, then the file HF_TOKEN_PATH or $HF_HOME/token)
//	HF_HUB_OFFLINE  1/ON/YES/TRUE: serve from the cache only (TRANSFORMERS_OFFLINE too)
//	HF_HUB_DISABLE_PROGRESS_BARS  1/ON/YES/TRUE: never draw progress bars
//
// Progress is set to os.Stderr unless bars are disabled; bars are drawn only
// when it is a terminal.
func NewFromEnv() *Client {
	home := hfHome()
	c := &Client{
		Endpoint: strings.TrimRight(envOr("HF_ENDPOINT", DefaultEndpoint), "/"),
		CacheDir: hubCacheDir(home),
		Token:    envToken(home),
		Offline:  envTrue("HF_HUB_OFFLINE") || envTrue("TRANSFORMERS_OFFLINE"),
	}
	if !envTrue("HF_HUB_DISABLE_PROGRESS_BARS") {
		c.Progress = os.Stderr
	}
	return c
}

func hfHome() string {
	if v := os.Getenv("HF_HOME"); v != "" {
		return expandPath(v)
	}
	if v := os.Getenv("XDG_CACHE_HOME"); v != "" {
		return filepath.Join(expandPath(v), "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func hubCacheDir(home string) string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if v := os.Getenv(k); v != "" {
			return expandPath(v)
		}
	}
	return filepath.Join(home, "hub")
}

// envToken follows huggingface_hub's order: the environment first, then the
// token file written by `huggingface-cli login`.
func envToken(home string) string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	path := filepath.Join(home, "token")
	if v := os.Getenv("HF_TOKEN_PATH"); v != "" {
		path = expandPath(v)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// envTrue matches huggingface_hub's notion of a true environment value.
func envTrue(key string) bool {
	switch strings.ToUpper(strings.TrimSpace(os.Getenv(key))) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

// expandPath does what Python's expanduser+expandvars do to the paths in
// the environment, so the same variables name the same directories.
func expandPath(p string) string {
	p = os.ExpandEnv(p)
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	return p
}

func (c *Client) endpoint() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(c.Endpoint, "/")
}

func (c *Client) cacheDir() string {
	if c.CacheDir == "" {
		return hubCacheDir(hfHome())
	}
	return c.CacheDir
}

func (c *Client) workers() int {
	if c.Workers <= 0 {
		return 8
	}
	return c.Workers
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return 5
	}
	return c.MaxRetries
}

func (c *Client) backoff() time.Duration {
	if c.RetryBackoff <= 0 {
		return time.Second
	}
	return c.RetryBackoff
}

func (c *Client) userAgent() string {
	if c.UserAgent == "" {
		return "bitnet"
	}
	return c.UserAgent
}

// isHub reports whether u is on the Hub itself (same scheme, host and
// port as the endpoint): only such requests carry the token, so it never
// reaches a CDN or a downgraded http:// URL after a redirect.
func (c *Client) isHub(u *url.URL) bool {
	e, err := url.Parse(c.endpoint())
	return err == nil && e.Host != "" && strings.EqualFold(u.Host, e.Host) && strings.EqualFold(u.Scheme, e.Scheme)
}

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.sleep != nil {
		return c.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) makeSymlink(oldname, newname string) error {
	if c.symlink != nil {
		return c.symlink(oldname, newname)
	}
	return os.Symlink(oldname, newname)
}

// displayEndpoint is the endpoint as shown in messages: without user info
// or query, whatever HF_ENDPOINT held.
func (c *Client) displayEndpoint() string { return redact(safeURL(c.endpoint()), c.Token) }
