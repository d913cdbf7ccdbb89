package kernels

// useAVX2 and useVNNI select the assembly paths. They are set once at init
// from cpuid (amd64 without the purego tag) and otherwise stay false; tests
// flip them with setPaths to run every path the CPU offers.
var (
	useAVX2 bool // AVX2 + FMA + F16C
	useVNNI bool // AVX-512 F/BW/VL + VNNI (implies useAVX2)
)

// hasAVX2 and hasVNNI record what the CPU and build offer.
var hasAVX2, hasVNNI bool

// setPaths enables at most the paths the CPU offers and returns a func that
// restores the previous choice. It is a test hook: callers must not run
// kernels concurrently with it.
func setPaths(avx2, vnni bool) (restore func()) {
	oa, ov := useAVX2, useVNNI
	useAVX2 = avx2 && hasAVX2
	useVNNI = vnni && hasVNNI && useAVX2
	return func() { useAVX2, useVNNI = oa, ov }
}
