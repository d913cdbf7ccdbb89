//go:build unix

package atomicfile

const lockingSupported = true
