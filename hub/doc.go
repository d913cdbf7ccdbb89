// Package hub downloads models from the Hugging Face Hub into the cache
// layout of huggingface_hub, so that a user's existing cache is reused and
// what we download is usable by the Python tools.
//
// A download resolves a revision (branch, tag, commit or refs/pr/N) to a
// commit, lists the repository's files with their sizes and hashes, asks the
// resolve endpoint (HEAD) for each file's etag and location, and fetches the
// bytes with resumable, verified, retried GETs. The cache looks like:
//
//	{HF_HUB_CACHE}/models--{org}--{name}/
//	    blobs/{etag}                      file content, named by git sha1 or sha256
//	    blobs/{etag}.incomplete           partial download, resumed by the next run
//	    refs/{revision}                   40-hex commit the revision pointed to
//	    snapshots/{commit}/{path}         relative symlink to ../../blobs/{etag}
//	    .no_exist/{commit}/{path}         empty marker: the file is known to be absent
//	{HF_HUB_CACHE}/.locks/models--{org}--{name}/{etag}.lock
//
// Errors the user can act on are distinguishable with errors.Is, and each
// message says what to do:
//
//	ErrRepoNotFound      401/404, X-Error-Code RepoNotFound (the Hub answers 401 for
//	                     missing, private and unauthenticated alike):
//	                     repository "org/name" not found on ...; check the name, and if it
//	                     is private, set HF_TOKEN (or log in with `huggingface-cli login`) ...
//	ErrGatedRepo         X-Error-Code GatedRepo: repository "org/name" is gated: accept its
//	                     conditions at {endpoint}/org/name, then set HF_TOKEN ... (401), or
//	                     your account has not been granted access yet ... (403)
//	ErrUnauthorized      401 with a token the Hub calls invalid: the Hugging Face token was
//	                     rejected (invalid or expired); update HF_TOKEN or $HF_HOME/token
//	ErrForbidden         other 403: access to "org/name" is forbidden (HTTP 403); make sure
//	                     your token has read permission ...
//	ErrRevisionNotFound  revision "r" not found in repository "org/name"
//	ErrEntryNotFound     file "p" not found in repository "org/name" at revision "r"
//	ErrOfflineCacheMiss  offline mode (HF_HUB_OFFLINE is set) and ... is not in the cache at
//	                     DIR: run `bitnet download org/name` once with network access, ...
//	ErrChecksum          download of "p" from "org/name" is corrupt: sha256 (or size,
//	                     git-sha1) mismatch: expected X, got Y; the corrupted download was removed
//	ErrDiskFull          disk full while writing PATH: free some space ...; the partial
//	                     download is kept and will resume
//	ErrUnsafePath        invalid repository id / revision, or a file path or etag that
//	                     would leave the cache or the target directory
//
// The server's own explanation (X-Error-Message) is appended when there is
// one. The token is sent only to the endpoint's own scheme and host, never
// to a CDN after a redirect, and never appears in an error or log line.
package hub
