package kernels

import "fmt"

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

// UsePath limits the kernels to one implementation: "generic" (the pure-Go
// references), "avx2", or "avx512vnni" (the default where the CPU has it).
// The paths compute identical results, so this only changes speed; it
// exists to compare them on a whole model and to rule the assembly out when
// chasing a problem. It fails for a path this CPU or build lacks. It must
// not be called while kernels run.
func UsePath(name string) error {
	switch {
	case name == "generic":
		setPaths(false, false)
	case name == "avx2" && hasAVX2:
		setPaths(true, false)
	case name == "avx512vnni" && hasVNNI:
		setPaths(true, true)
	default:
		return fmt.Errorf("kernels: path %q is not available here (have %v)", name, available())
	}
	return nil
}

// available lists the paths UsePath accepts on this CPU and build.
func available() []string {
	p := []string{"generic"}
	if hasAVX2 {
		p = append(p, "avx2")
	}
	if hasVNNI {
		p = append(p, "avx512vnni")
	}
	return p
}
