package server

import (
	"strings"
	"testing"
)

func TestStopMatcher(t *testing.T) {
	tests := []struct {
		name    string
		stops   []string
		pieces  []string
		want    string // all text shown
		stopped bool
	}{
		{"no stops", nil, []string{"ab", "c"}, "abc", false},
		{"within a piece", []string{"XY"}, []string{"abXYcd"}, "ab", true},
		{"across pieces", []string{"XYZ"}, []string{"ab", "X", "Y", "Zcd"}, "ab", true},
		{"false start released", []string{"XYZ"}, []string{"aX", "Yb", "c"}, "aXYbc", false},
		{"held at the end", []string{"XYZ"}, []string{"aXY"}, "aXY", false},
		{"earliest of several", []string{"cd", "b"}, []string{"abcd"}, "a", true},
		{"overlapping prefix", []string{"aab"}, []string{"a", "a", "a", "b"}, "a", true},
		{"multibyte", []string{"é!"}, []string{"caf", "é", "!"}, "caf", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := stopMatcher{stops: tt.stops}
			var got strings.Builder
			stopped := false
			for _, p := range tt.pieces {
				out, s := m.push(p)
				got.WriteString(out)
				if s {
					stopped = true
					break
				}
			}
			if !stopped {
				got.WriteString(m.flush())
			}
			if got.String() != tt.want || stopped != tt.stopped {
				t.Errorf("got %q stopped=%v, want %q stopped=%v", got.String(), stopped, tt.want, tt.stopped)
			}
		})
	}
}

// Text that cannot start a stop string is shown at once, not held.
func TestStopMatcherHoldsOnlyPrefixes(t *testing.T) {
	m := stopMatcher{stops: []string{"END"}}
	if out, _ := m.push("hello E"); out != "hello " {
		t.Errorf("pushed %q", out)
	}
	if out, _ := m.push("x"); out != "Ex" {
		t.Errorf("pushed %q", out)
	}
}
