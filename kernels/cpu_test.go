package kernels

import "testing"

// path is one implementation choice the tests run against the reference.
type path struct {
	name   string
	enable func() (restore func())
}

// testPaths lists generic plus every assembly path this CPU and build offer.
func testPaths(t testing.TB) []path {
	ps := []path{{"generic", func() func() { return setPaths(false, false) }}}
	if hasAVX2 {
		ps = append(ps, path{"avx2", func() func() { return setPaths(true, false) }})
	}
	if hasVNNI {
		ps = append(ps, path{"vnni", func() func() { return setPaths(true, true) }})
	}
	return ps
}
