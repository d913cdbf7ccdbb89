package hub

import (
	"regexp"
	"strings"
)

// Include and exclude patterns use huggingface_hub's rules (Python's
// fnmatch on POSIX), not path.Match: '*' also matches '/', so "*.json"
// selects "sub/config.json" too, and a pattern ending in '/' selects
// everything under that directory.

// globRe translates one fnmatch pattern to an anchored regular expression.
func globRe(pat string) *regexp.Regexp {
	if strings.HasSuffix(pat, "/") {
		pat += "*"
	}
	rs := []rune(pat)
	var sb strings.Builder
	sb.WriteString(`(?s)^`)
	for i := 0; i < len(rs); {
		r := rs[i]
		i++
		switch r {
		case '*':
			for i < len(rs) && rs[i] == '*' {
				i++
			}
			sb.WriteString(`.*`)
		case '?':
			sb.WriteString(`.`)
		case '[':
			j := i
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				sb.WriteString(`\[`) // no closing bracket: a literal '['
				continue
			}
			set := string(rs[i:j])
			i = j + 1
			set = strings.ReplaceAll(set, `\`, `\\`)
			switch {
			case strings.HasPrefix(set, "!"):
				set = "^" + set[1:]
			case strings.HasPrefix(set, "^"):
				set = `\` + set
			}
			sb.WriteString("[" + set + "]")
		default:
			sb.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	sb.WriteString(`$`)
	re, err := regexp.Compile(sb.String())
	if err != nil {
		// A set Go cannot compile (e.g. a reversed range): match it literally.
		return regexp.MustCompile(`^` + regexp.QuoteMeta(pat) + `$`)
	}
	return re
}

// MatchGlob reports whether a repository path matches a pattern under
// huggingface_hub's rules: '*' matches any run of characters including '/',
// '?' one character, [abc] and [!abc] sets, and a trailing '/' means "this
// directory and everything below it".
func MatchGlob(pattern, path string) bool {
	return globRe(pattern).MatchString(path)
}

// filterFiles keeps the files matching any include pattern (all when there
// are none) and none of the exclude patterns.
func filterFiles(files []FileInfo, include, exclude []string) []FileInfo {
	inc := make([]*regexp.Regexp, len(include))
	for i, p := range include {
		inc[i] = globRe(p)
	}
	exc := make([]*regexp.Regexp, len(exclude))
	for i, p := range exclude {
		exc[i] = globRe(p)
	}
	matchAny := func(res []*regexp.Regexp, s string) bool {
		for _, re := range res {
			if re.MatchString(s) {
				return true
			}
		}
		return false
	}
	var out []FileInfo
	for _, f := range files {
		if len(inc) > 0 && !matchAny(inc, f.Path) {
			continue
		}
		if matchAny(exc, f.Path) {
			continue
		}
		out = append(out, f)
	}
	return out
}
