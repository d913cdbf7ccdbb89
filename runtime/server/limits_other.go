//go:build !unix

package server

// fdLimit: no descriptor limit to read here; Windows allows thousands of
// sockets, so cap at a generous fixed number.
func fdLimit() int { return 8192 }
