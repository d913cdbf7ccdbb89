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
// Errors the user can act on are distinguishable with errors.Is:
// ErrRepoNotFound, ErrGatedRepo, ErrForbidden, ErrUnauthorized,
// ErrRevisionNotFound, ErrEntryNotFound, ErrOfflineCacheMiss, ErrChecksum,
// ErrDiskFull and ErrUnsafePath. The token never appears in an error or log
// line.
package hub
