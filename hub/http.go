package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// redirectMode says which redirects a request follows by itself.
type redirectMode int

const (
	// followAll follows every redirect (API calls, file bodies).
	followAll redirectMode = iota
	// followRelative follows only same-site redirects (a renamed
	// repository) and returns an absolute one (the CDN) to the caller, as
	// huggingface_hub's HEAD on the resolve endpoint does.
	followRelative
)

const (
	maxRedirects  = 10
	maxBackoff    = 8 * time.Second
	maxRetryAfter = 5 * time.Minute
)

// headerTimeout bounds the wait for a response's headers, per request; the
// body has its own stall timer (see fetch.go). A variable for tests.
var headerTimeout = 30 * time.Second

// permanentError is a failure that repeating the request cannot heal (a
// redirect loop, a malformed or refused redirect): retrying it would only
// make the user wait.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// isPermanent reports whether err must not be retried.
func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// networkError is a failure to talk to the server at all (after retries),
// as opposed to an answer from it; Download falls back to the cache on it.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

func (c *Client) httpClient() *http.Client {
	var hc http.Client
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	// Redirects are followed in do, where the Authorization header is
	// decided per hop: Go's own policy would forward it to any host a
	// relative chain ends on.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// do sends method to rawURL with retries on network errors, 408, 429 and
// 5xx (honouring Retry-After), following redirects by hand. The token is
// attached only when the request goes to the Hub's own host. A non-2xx
// answer that is not retried is returned as is for the caller to explain.
func (c *Client) do(ctx context.Context, method, rawURL string, hdr http.Header, mode redirectMode) (*http.Response, error) {
	hc := c.httpClient()
	retries := c.maxRetries()
	wait := c.backoff()
	for attempt := 0; ; attempt++ {
		resp, err := c.doRedirects(ctx, hc, method, rawURL, hdr, mode)
		if err == nil && !retryable(resp.StatusCode) {
			return resp, nil
		}
		if err != nil && isPermanent(err) {
			return nil, err
		}
		if ctx.Err() != nil {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, ctx.Err()
		}
		if attempt >= retries {
			if err != nil {
				return nil, &networkError{err}
			}
			return resp, nil
		}
		d := wait
		if err != nil {
			slog.Warn("hub: request failed, retrying", "method", method, "url", safeURL(rawURL), "err", err, "in", d)
		} else {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				d = ra
			}
			slog.Warn("hub: server busy, retrying", "method", method, "url", safeURL(rawURL), "status", resp.StatusCode, "in", d)
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
		}
		if err := c.wait(ctx, d); err != nil {
			return nil, err
		}
		wait = min(wait*2, maxBackoff)
	}
}

func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		d = time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

func (c *Client) doRedirects(ctx context.Context, hc *http.Client, method, rawURL string, hdr http.Header, mode redirectMode) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, &permanentError{fmt.Errorf("hub: bad URL %s: %v", safeURL(rawURL), err)}
	}
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
		if err != nil {
			return nil, err
		}
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		req.Header.Set("User-Agent", c.userAgent())
		authed := c.Token != "" && c.isHub(u)
		if authed {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		slog.Debug("hub: request", "method", method, "url", safeURL(u.String()), "authenticated", authed)
		resp, err := c.send(ctx, hc, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 || resp.StatusCode == http.StatusNotModified {
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		if loc == "" {
			return resp, nil
		}
		locURL, err := url.Parse(loc)
		if err != nil {
			resp.Body.Close()
			return nil, &permanentError{fmt.Errorf("hub: bad redirect from %s: %v", safeURL(u.String()), err)}
		}
		next := u.ResolveReference(locURL)
		if next.Scheme != "http" && next.Scheme != "https" {
			resp.Body.Close()
			return nil, &permanentError{fmt.Errorf("hub: refusing redirect to %s", safeURL(next.String()))}
		}
		// A relative Location is a renamed repository on the Hub itself;
		// an absolute one is where the bytes live (a CDN, maybe another host).
		if mode == followRelative && locURL.Host != "" {
			return resp, nil
		}
		if hop >= maxRedirects {
			resp.Body.Close()
			return nil, &permanentError{fmt.Errorf("hub: more than %d redirects from %s", maxRedirects, safeURL(rawURL))}
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		u = next
	}
}

// send performs one request, giving the server headerTimeout to answer.
// The timer stops once headers arrive: reading the body may take hours.
func (c *Client) send(ctx context.Context, hc *http.Client, req *http.Request) (*http.Response, error) {
	hctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(headerTimeout, cancel)
	resp, err := hc.Do(req.WithContext(hctx))
	if !timer.Stop() && ctx.Err() == nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		return nil, fmt.Errorf("%s %s: no response within %v", req.Method, safeURL(req.URL.String()), headerTimeout)
	}
	if err != nil {
		cancel()
		return nil, c.scrub(err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// scrub makes sure a transport error cannot carry the token (it never
// should; this is a second fence) nor a CDN URL's signature.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, safeURL(ue.URL), ue.Err)
	}
	if c.Token != "" && strings.Contains(err.Error(), c.Token) {
		return errors.New(redact(err.Error(), c.Token))
	}
	return err
}

// safeURL drops the query (CDN URLs carry signatures) and any user info,
// and clips what is left (a Link or Location header can be any length).
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return clip(u.String())
}

// metaHeaders are sent on every metadata and file request: identity
// encoding, so sizes and byte ranges refer to the stored bytes.
func metaHeaders() http.Header {
	return http.Header{"Accept-Encoding": {"identity"}}
}
