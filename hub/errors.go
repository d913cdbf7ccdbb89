package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"unicode"
)

// Sentinel errors, matched with errors.Is. The concrete error carries the
// repository, revision and file, and a message that says what to do.
var (
	// ErrRepoNotFound: the repository does not exist, or it is private and
	// the request was not authenticated with an account that can read it
	// (the Hub answers 401 for all of these alike).
	ErrRepoNotFound = errors.New("repository not found")
	// ErrGatedRepo: the repository is gated and the account has not been
	// granted access (or no token was sent).
	ErrGatedRepo = errors.New("gated repository")
	// ErrUnauthorized: the token was rejected (invalid or expired).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the token is valid but lacks the permission.
	ErrForbidden = errors.New("forbidden")
	// ErrRevisionNotFound: no branch, tag or commit of that name.
	ErrRevisionNotFound = errors.New("revision not found")
	// ErrEntryNotFound: the file does not exist at that revision.
	ErrEntryNotFound = errors.New("file not found")
	// ErrOfflineCacheMiss: offline mode (or no network) and the cache does
	// not hold what was asked for.
	ErrOfflineCacheMiss = errors.New("not in the local cache")
	// ErrChecksum: the downloaded bytes do not match the size or hash the
	// Hub announced; the bad file has been removed.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrDiskFull: the disk (or quota) ran out while writing.
	ErrDiskFull = errors.New("disk full")
	// ErrUnsafePath: a repository name, revision or file path that would
	// escape the cache or the target directory.
	ErrUnsafePath = errors.New("unsafe path")
)

// Error is a failure reported by the Hub (or deduced from its answer).
type Error struct {
	Kind     error  // one of the sentinel errors above, or nil
	Status   int    // HTTP status, 0 when not from a response
	Code     string // X-Error-Code
	Server   string // the server's own message (X-Error-Message or JSON "error")
	Repo     string
	Revision string
	Path     string // file inside the repository, when relevant
	Endpoint string
	// authed records whether a token was sent, to pick the advice.
	authed bool
}

// Error phrases each kind so that a user knows what to do next. The
// messages are part of the documented behaviour (see the tests).
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hub: ")
	switch e.Kind {
	case ErrRepoNotFound:
		fmt.Fprintf(&b, "repository %q not found on %s", e.Repo, e.Endpoint)
		if e.authed {
			b.WriteString(" (or the token sent has no access to it); check the name")
		} else {
			b.WriteString("; check the name, and if it is private, set HF_TOKEN (or log in with `huggingface-cli login`) to a token that can read it")
		}
	case ErrGatedRepo:
		fmt.Fprintf(&b, "repository %q is gated: ", e.Repo)
		if e.authed {
			fmt.Fprintf(&b, "your account has not been granted access yet; request it at %s/%s and retry once it is approved", e.Endpoint, e.Repo)
		} else {
			fmt.Fprintf(&b, "accept its conditions at %s/%s, then set HF_TOKEN (or log in with `huggingface-cli login`) to a token of that account", e.Endpoint, e.Repo)
		}
	case ErrUnauthorized:
		b.WriteString("the Hugging Face token was rejected (invalid or expired); update HF_TOKEN or $HF_HOME/token")
	case ErrForbidden:
		fmt.Fprintf(&b, "access to %q is forbidden (HTTP 403); make sure your token has read permission for this repository (fine-grained tokens must list it)", e.Repo)
	case ErrRevisionNotFound:
		fmt.Fprintf(&b, "revision %q not found in repository %q", e.Revision, e.Repo)
	case ErrEntryNotFound:
		fmt.Fprintf(&b, "file %q not found in repository %q at revision %q", e.Path, e.Repo, e.Revision)
	default:
		fmt.Fprintf(&b, "request for %q failed", e.Repo)
		if e.Path != "" {
			fmt.Fprintf(&b, " (file %q)", e.Path)
		}
		if e.Status != 0 {
			fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
		}
	}
	if e.Server != "" && e.Kind != ErrRepoNotFound {
		fmt.Fprintf(&b, " (server: %s)", e.Server)
	}
	return b.String()
}

// Unwrap lets errors.Is match the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// target says what a request was about, for error messages.
type target struct {
	repo, revision, path string
}

// statusError turns a non-2xx response into an *Error, reading at most a
// little of the body for the server's message. It follows
// huggingface_hub's reading of X-Error-Code, including its rule that a 401
// on a repository URL means "not found or private".
func (c *Client) statusError(resp *http.Response, t target, authed bool) error {
	e := &Error{
		Status:   resp.StatusCode,
		Code:     resp.Header.Get("X-Error-Code"),
		Server:   serverMessage(resp),
		Repo:     t.repo,
		Revision: t.revision,
		Path:     t.path,
		Endpoint: c.displayEndpoint(),
		authed:   authed,
	}
	switch {
	case e.Code == "RevisionNotFound":
		e.Kind = ErrRevisionNotFound
	case e.Code == "EntryNotFound":
		e.Kind = ErrEntryNotFound
	case e.Code == "GatedRepo":
		e.Kind = ErrGatedRepo
	case e.Code == "RepoNotFound":
		e.Kind = ErrRepoNotFound
	case resp.StatusCode == http.StatusUnauthorized && authed && looksLikeBadToken(e.Server):
		e.Kind = ErrUnauthorized
	case resp.StatusCode == http.StatusUnauthorized:
		e.Kind = ErrRepoNotFound
	case resp.StatusCode == http.StatusForbidden:
		e.Kind = ErrForbidden
	case resp.StatusCode == http.StatusNotFound && t.path != "":
		e.Kind = ErrEntryNotFound
	case resp.StatusCode == http.StatusNotFound:
		e.Kind = ErrRepoNotFound
	}
	e.Server = redact(e.Server, c.Token)
	return e
}

func looksLikeBadToken(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "invalid credentials") || strings.Contains(m, "invalid username or password") ||
		strings.Contains(m, "invalid token") || strings.Contains(m, "expired")
}

// serverMessage extracts the Hub's explanation: the X-Error-Message header,
// else a JSON {"error": "..."} body. It is shortened and stripped of control
// characters so a hostile server cannot paint the terminal.
func serverMessage(resp *http.Response) string {
	msg := resp.Header.Get("X-Error-Message")
	if msg == "" && resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var j struct {
			Error any `json:"error"`
		}
		if json.Unmarshal(body, &j) == nil {
			switch v := j.Error.(type) {
			case string:
				msg = v
			case []any:
				if len(v) > 0 {
					msg = fmt.Sprint(v[0])
				}
			}
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(msg))
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// redact removes the token from any text that might reach a user.
func redact(s, token string) string {
	if token == "" || s == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}

// diskError names disk-full conditions plainly; other errors pass through.
func diskError(err error, path string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) || isQuota(err) {
		return fmt.Errorf("hub: %w while writing %s: free some space (or point HF_HUB_CACHE at a larger disk) and run again; the partial download is kept and will resume: %v", ErrDiskFull, path, err)
	}
	return err
}
