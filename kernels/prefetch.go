package kernels

import "unsafe"

// PrefetchL2 asks the CPU to bring x into the calling core's L2 cache and
// returns without waiting for it: a hint for memory that will be read soon,
// with no effect on any result. The pure-Go build has no prefetch
// instruction and does nothing.
func PrefetchL2(x []float32) {
	prefetchBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), 4*len(x)))
}
