package kernels

import (
	"fmt"
	"strings"
)

// The use* flags select the implementations the dispatch functions call.
// They are set once at init from cpuid (the fastest path this CPU and build
// offer) and changed only by UsePath and the tests' setFlags, never while
// kernels run.
var (
	useAVX2 bool // amd64: AVX2 + FMA + F16C
	useVNNI bool // amd64: AVX-512 F/BW/VL + VNNI (implies useAVX2)

	useNEON bool // arm64: Advanced SIMD (every ARMv8-A core)
	useDot  bool // arm64: SDOT/UDOT (FEAT_DotProd; implies useNEON)
	useI8MM bool // arm64: SMMLA (FEAT_I8MM; implies useDot)

	// usePortable selects the pure-Go fast path (portable*.go) wherever no
	// assembly applies: every kernel of architectures without assembly,
	// amd64 without AVX2, and the shapes the assembly leaves to Go.
	usePortable bool
)

// pathFlags is one choice of the use* flags.
type pathFlags struct {
	avx2, vnni, neon, dot, i8mm, portable bool
}

// currentFlags returns the flags in force.
func currentFlags() pathFlags {
	return pathFlags{useAVX2, useVNNI, useNEON, useDot, useI8MM, usePortable}
}

// setFlags puts f in force and returns a func that restores the previous
// choice. Callers must not run kernels concurrently with it.
func setFlags(f pathFlags) (restore func()) {
	old := currentFlags()
	useAVX2, useVNNI, useNEON, useDot, useI8MM, usePortable = f.avx2, f.vnni, f.neon, f.dot, f.i8mm, f.portable
	return func() { setFlags(old) }
}

// kernelPath is a named choice of implementations that UsePath selects.
type kernelPath struct {
	name  string
	flags pathFlags
}

// offered lists the paths this CPU and build offer, slowest first: the
// references, the portable Go fast path, then the assembly tiers the
// dispatch file of the architecture found (archPaths), each a superset of
// the one before it.
var offered []kernelPath

func init() {
	offered = append([]kernelPath{
		{"generic", pathFlags{}},
		{"portable", pathFlags{portable: true}},
	}, archPaths()...)
	setFlags(offered[defaultPathIndex()].flags)
}

// defaultPathIndex is the path in force at start: the fastest, except
// that the purego build tag forces the references.
func defaultPathIndex() int {
	if pureGoBuild {
		return 0
	}
	return len(offered) - 1
}

// UsePath limits the kernels to one implementation by name: "generic" (the
// pure-Go references), "portable" (the pure-Go fast path), or an assembly
// tier ("avx2", "avx512vnni" on amd64; "neon", "dotprod", "i8mm" on
// arm64). The default is the fastest the CPU offers ("generic" in a purego
// build). The paths compute identical results, so this only changes
// speed; it exists to compare them on a whole model and to rule the
// assembly out when chasing a problem. It fails for a path this CPU or
// build lacks. It must not be called while kernels run.
func UsePath(name string) error {
	for _, p := range offered {
		if p.name == name {
			setFlags(p.flags)
			return nil
		}
	}
	return fmt.Errorf("kernels: path %q is not available on this CPU and build (have %s)", name, strings.Join(AvailablePaths(), ", "))
}

// AvailablePaths lists the names UsePath accepts here, slowest first.
func AvailablePaths() []string {
	names := make([]string, len(offered))
	for i, p := range offered {
		names[i] = p.name
	}
	return names
}

// DefaultPath is the path in force at start.
func DefaultPath() string { return offered[defaultPathIndex()].name }

// Paths lists the kernel implementations in use, most specific first: an
// assembly tier and those it builds on, then "portable" where the pure-Go
// fast path covers the rest, or just "generic".
func Paths() []string {
	var p []string
	for _, f := range []struct {
		on   bool
		name string
	}{
		{useVNNI, "avx512vnni"}, {useAVX2, "avx2"},
		{useI8MM, "i8mm"}, {useDot, "dotprod"}, {useNEON, "neon"},
		{usePortable, "portable"},
	} {
		if f.on {
			p = append(p, f.name)
		}
	}
	if len(p) == 0 {
		return []string{"generic"}
	}
	return p
}
