package server

import "strings"

// stopMatcher cuts generated text at the first stop string. Text that might
// be the start of a stop string is held back until the following text shows
// whether it is, so a stream never shows part of a stop string.
type stopMatcher struct {
	stops []string
	held  string
}

// push adds text and returns what can be shown now; stopped reports that a
// stop string was found (the returned text ends just before it).
func (m *stopMatcher) push(text string) (out string, stopped bool) {
	if len(m.stops) == 0 {
		return text, false
	}
	buf := m.held + text
	cut := -1
	for _, s := range m.stops {
		if i := strings.Index(buf, s); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut >= 0 {
		m.held = ""
		return buf[:cut], true
	}
	keep := 0
	for _, s := range m.stops {
		keep = max(keep, overlap(buf, s))
	}
	m.held = buf[len(buf)-keep:]
	return buf[:len(buf)-keep], false
}

// flush returns the held-back text at the end of generation.
func (m *stopMatcher) flush() string {
	out := m.held
	m.held = ""
	return out
}

// overlap is the length of the longest proper prefix of s that ends buf.
func overlap(buf, s string) int {
	for n := min(len(buf), len(s)-1); n > 0; n-- {
		if strings.HasSuffix(buf, s[:n]) {
			return n
		}
	}
	return 0
}
