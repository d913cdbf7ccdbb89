package kernels

import (
	"slices"
	"testing"
)

// path is one implementation choice the tests run against the reference.
type path struct {
	name   string
	enable func() (restore func())
}

// testPaths lists every path this CPU and build offer, generic first.
func testPaths(t testing.TB) []path {
	ps := make([]path, len(offered))
	for i, p := range offered {
		ps[i] = path{p.name, func() func() { return setFlags(p.flags) }}
	}
	return ps
}

func TestUsePath(t *testing.T) {
	defer setFlags(currentFlags())() // a no-op now; restores the flags in force when the test ends
	names := AvailablePaths()
	if names[0] != "generic" || names[1] != "portable" {
		t.Fatalf("AvailablePaths() = %v, want generic and portable first", names)
	}
	if !slices.Contains(names, DefaultPath()) {
		t.Fatalf("DefaultPath() %q not in %v", DefaultPath(), names)
	}
	for _, n := range names {
		if err := UsePath(n); err != nil {
			t.Fatalf("UsePath(%q): %v", n, err)
		}
		if got := Paths(); n != "generic" && got[0] != n {
			t.Errorf("after UsePath(%q), Paths() = %v", n, got)
		}
	}
	if err := UsePath("generic"); err != nil || !slices.Equal(Paths(), []string{"generic"}) {
		t.Errorf("generic: err %v, Paths() %v", err, Paths())
	}
	if err := UsePath("no-such-path"); err == nil {
		t.Error("UsePath accepted an unknown path")
	}
}
