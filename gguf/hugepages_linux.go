package gguf

import "golang.org/x/sys/unix"

// adviseHugePages asks for transparent huge pages: fewer TLB misses while
// the weights stream through. Where THP is off the advice is ignored.
func adviseHugePages(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
