package grammar

import "math"

// The matcher is a pushdown automaton over bytes: a path is one parse of
// the text so far, a stack of frames (the value being read on top, the
// objects and arrays it sits in below). anyOf and enum make the parse
// ambiguous for a while, so a Matcher follows a small set of paths and
// drops those a byte rules out. Frames are plain values and the stack
// below the top is immutable and shared, so trying a byte on a path costs
// no allocation unless an object or array opens.

// MaxIndent bounds the whitespace between two tokens of the document.
// JSON allows any amount, and a model that keeps choosing spaces would
// never finish, so a run is either one space or a newline followed by at
// most MaxIndent spaces and tabs: compact and pretty-printed JSON both
// fit, "\r\n  \n" and the like do not.
const MaxIndent = 16

// Whitespace run states in frame.ws: none yet, one space (nothing may
// follow), or a newline followed by ws-wsNewline indent bytes.
const (
	wsNone    = 0
	wsSpace   = 1
	wsNewline = 2
)

// maxDepth bounds the nesting of objects and arrays.
const maxDepth = 64

// maxPaths bounds the parses followed at once; ambiguous anyOf branches
// beyond it are dropped (the text stays valid, a few continuations are
// lost).
const maxPaths = 32

type frameKind uint8

const (
	fValue   frameKind = iota // a value of n comes next, maybe after whitespace
	fObject                   // inside an object
	fArray                    // inside an array
	fString                   // inside a string value
	fNumber                   // inside a number
	fLiteral                  // inside an enum/const/true/false/null literal
	fDone                     // the document is complete
)

// Object sub-states.
const (
	oOpen  uint8 = iota // after '{'
	oKey                // inside a property name
	oColon              // after the name's closing quote
	oAfter              // after a property's value
	oComma              // after ','
)

// Array sub-states.
const (
	aOpen  uint8 = iota // after '['
	aAfter              // after an item
	aComma              // after ','
)

type frame struct {
	n    *node
	kind frameKind
	sub  uint8
	ws   uint8 // length of the current whitespace run
	// String lexer: esc is 0 outside an escape, 1 after '\', 2–5 while
	// reading the 4 hex digits of \u (2: the first), 7 for a second hex
	// digit that must be 0–7 (no surrogates); utf counts the UTF-8
	// continuation bytes still due, each in [ulo, uhi].
	esc, utf, ulo, uhi uint8
	addlKey            bool  // a property name that may still be an additional property
	count              int32 // string characters, array items, literal or name bytes
	lo, hi             int32 // candidate literals or properties (a range of the sorted list)
	cur                int32 // property whose value is read (-1: an additional one)
	seen               uint64
	num                numState
}

type numState struct {
	neg, dot, exp, expSigned bool
	intDigits, fracDigits    uint8
	expDigits                uint8
	mant                     uint64 // the digits read, integer and fraction, as one integer
}

// stack is the immutable part of a path below its top frame. close caches
// the shortest completion of every frame in it.
type stack struct {
	f     frame
	next  *stack
	close int
	depth int
}

type path struct {
	top  frame
	rest *stack
}

func push(rest *stack, f frame) *stack {
	s := &stack{f: f, next: rest, close: f.close()}
	if rest != nil {
		s.close += rest.close
		s.depth = rest.depth + 1
	}
	return s
}

func isWS(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' }

// space takes b as whitespace if the run so far allows it.
func (f *frame) space(b byte) bool {
	switch {
	case f.ws == wsNone && b == ' ':
		f.ws = wsSpace
	case f.ws == wsNone && b == '\n':
		f.ws = wsNewline
	case f.ws >= wsNewline && f.ws < wsNewline+MaxIndent && (b == ' ' || b == '\t'):
		f.ws++
	default:
		return false
	}
	return true
}

// Static literal nodes for true/false and null.
var (
	boolLits = &node{lits: [][]byte{[]byte("false"), []byte("true")}, minSize: 4}
	nullLits = &node{lits: [][]byte{[]byte("null")}, minSize: 4}
)

// step appends to out the paths p becomes after byte b.
func step(p path, b byte, out []path) []path {
	f := p.top
	switch f.kind {
	case fDone: // nothing follows the document, not even whitespace
		return out
	case fValue:
		if isWS(b) {
			if f.space(b) {
				out = append(out, path{f, p.rest})
			}
			return out
		}
		return dispatch(f.n, b, p.rest, out)
	case fString:
		closed, ok := f.strByte(b, f.n.maxLen, true)
		switch {
		case !ok:
			return out
		case closed:
			if int(f.count) < f.n.minLen {
				return out
			}
			return append(out, pop(p.rest))
		}
		return append(out, path{f, p.rest})
	case fLiteral:
		return literalStep(p, b, out)
	case fNumber:
		if ns, ok := numByte(f.n, f.num, b); ok {
			f.num = ns
			out = append(out, path{f, p.rest})
		}
		if numComplete(f.n, f.num) {
			out = step(pop(p.rest), b, out)
		}
		return out
	case fObject:
		return objectStep(p, b, out)
	case fArray:
		return arrayStep(p, b, out)
	}
	return out
}

// pop ends the top value: its container becomes the top again (already
// in its after-value state), or the document is done.
func pop(rest *stack) path {
	if rest == nil {
		return path{top: frame{kind: fDone}}
	}
	return path{rest.f, rest.next}
}

func depth(rest *stack) int {
	if rest == nil {
		return 0
	}
	return rest.depth + 1
}

// dispatch starts a value of n with its first byte b.
func dispatch(n *node, b byte, rest *stack, out []path) []path {
	if n.alts != nil {
		for _, a := range n.alts {
			if len(out) >= maxPaths {
				break
			}
			out = dispatch(a, b, rest, out)
		}
		return out
	}
	if n.lits != nil {
		return startLiteral(n, b, rest, out)
	}
	f := frame{n: n}
	switch {
	case b == '{' && n.types&tObject != 0 && depth(rest) < maxDepth:
		f.kind, f.sub = fObject, oOpen
	case b == '[' && n.types&tArray != 0 && depth(rest) < maxDepth:
		f.kind, f.sub = fArray, aOpen
	case b == '"' && n.types&tString != 0:
		f.kind = fString
	case (b == '-' || b >= '0' && b <= '9') && n.types&(tNumber|tInteger) != 0:
		ns, ok := numByte(n, numState{}, b)
		if !ok {
			return out
		}
		f.kind, f.num = fNumber, ns
	case (b == 't' || b == 'f') && n.types&tBool != 0:
		return startLiteral(boolLits, b, rest, out)
	case b == 'n' && n.types&tNull != 0:
		return startLiteral(nullLits, b, rest, out)
	default:
		return out
	}
	return append(out, path{f, rest})
}

func startLiteral(n *node, b byte, rest *stack, out []path) []path {
	f := frame{n: n, kind: fLiteral, lo: 0, hi: int32(len(n.lits))}
	if !f.narrowLit(b) {
		return out
	}
	return append(out, path{f, rest})
}

// narrowLit keeps the candidate literals whose next byte is b.
func (f *frame) narrowLit(b byte) bool {
	lo, hi := f.hi, f.lo
	for i := f.lo; i < f.hi; i++ {
		l := f.n.lits[i]
		if int(f.count) < len(l) && l[f.count] == b {
			lo, hi = min(lo, i), max(hi, i+1)
		}
	}
	if lo >= hi {
		return false
	}
	f.lo, f.hi = lo, hi
	f.count++
	return true
}

// litComplete reports whether a candidate literal is fully read.
func (f *frame) litComplete() bool {
	for i := f.lo; i < f.hi; i++ {
		if len(f.n.lits[i]) == int(f.count) {
			return true
		}
	}
	return false
}

func literalStep(p path, b byte, out []path) []path {
	f := p.top
	if f.narrowLit(b) {
		out = append(out, path{f, p.rest})
	}
	if p.top.litComplete() {
		out = step(pop(p.rest), b, out)
	}
	return out
}

// strByte advances the string lexer by b. closed reports the closing
// quote; ok false rejects b. maxLen (< 0: none) bounds the characters.
func (f *frame) strByte(b byte, maxLen int, allowEsc bool) (closed, ok bool) {
	if f.utf > 0 {
		if b < f.ulo || b > f.uhi {
			return false, false
		}
		f.utf--
		f.ulo, f.uhi = 0x80, 0xBF
		return false, true
	}
	isHex := b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
	switch f.esc {
	case 1:
		switch b {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			f.esc = 0
		case 'u':
			f.esc = 2
		default:
			return false, false
		}
		return false, true
	case 2:
		if !isHex {
			return false, false
		}
		f.esc = 3
		if b == 'd' || b == 'D' {
			f.esc = 7
		}
		return false, true
	case 7:
		if b < '0' || b > '7' {
			return false, false
		}
		f.esc = 4
		return false, true
	case 3, 4, 5:
		if !isHex {
			return false, false
		}
		f.esc = (f.esc + 1) % 6
		return false, true
	}
	if b == '"' {
		return true, true
	}
	if b < 0x20 || b == '\\' && !allowEsc {
		return false, false
	}
	if maxLen >= 0 && int(f.count) >= maxLen {
		return false, false
	}
	switch {
	case b == '\\':
		f.esc = 1
	case b < 0x80:
	case b >= 0xC2 && b <= 0xDF:
		f.utf, f.ulo, f.uhi = 1, 0x80, 0xBF
	case b == 0xE0:
		f.utf, f.ulo, f.uhi = 2, 0xA0, 0xBF
	case b == 0xED:
		f.utf, f.ulo, f.uhi = 2, 0x80, 0x9F
	case b >= 0xE1 && b <= 0xEF:
		f.utf, f.ulo, f.uhi = 2, 0x80, 0xBF
	case b == 0xF0:
		f.utf, f.ulo, f.uhi = 3, 0x90, 0xBF
	case b >= 0xF1 && b <= 0xF3:
		f.utf, f.ulo, f.uhi = 3, 0x80, 0xBF
	case b == 0xF4:
		f.utf, f.ulo, f.uhi = 3, 0x80, 0x8F
	default:
		return false, false
	}
	f.count++
	return false, true
}

// strPending is the bytes an unfinished escape or character still needs.
func (f *frame) strPending() int {
	switch f.esc {
	case 1:
		return 1
	case 2:
		return 4
	case 3, 7:
		return 3
	case 4:
		return 2
	case 5:
		return 1
	}
	return int(f.utf)
}

func objectStep(p path, b byte, out []path) []path {
	f := p.top
	n := f.n
	if f.sub != oKey && isWS(b) {
		if f.space(b) {
			out = append(out, path{f, p.rest})
		}
		return out
	}
	f.ws = 0
	switch f.sub {
	case oOpen, oComma:
		switch {
		case b == '"' && f.moreKeys():
			f.sub, f.count, f.esc, f.utf = oKey, 0, 0, 0
			f.lo, f.hi = 0, int32(len(n.props))
			if n.ordered {
				f.lo = int32(n.seq[popcount(f.seen)])
				f.hi = f.lo + 1
			}
			f.addlKey = n.addl != nil
			return append(out, path{f, p.rest})
		case b == '}' && f.sub == oOpen && f.seen&n.required == n.required:
			return append(out, pop(p.rest))
		}
	case oKey:
		return keyStep(p, b, out)
	case oColon:
		if b != ':' {
			return out
		}
		parent := f
		parent.sub = oAfter
		vn := n.addl
		if f.cur >= 0 {
			parent.seen |= 1 << f.cur
			vn = n.props[f.cur].n
		}
		return append(out, path{frame{n: vn, kind: fValue}, push(p.rest, parent)})
	case oAfter:
		switch {
		case b == ',' && f.moreKeys():
			f.sub = oComma
			return append(out, path{f, p.rest})
		case b == '}' && f.seen&n.required == n.required:
			return append(out, pop(p.rest))
		}
	}
	return out
}

// moreKeys reports whether another property may follow.
func (f *frame) moreKeys() bool {
	n := f.n
	if n.ordered {
		return popcount(f.seen) < len(n.seq)
	}
	return n.addl != nil || f.seen != (uint64(1)<<len(n.props))-1
}

func popcount(x uint64) int {
	c := 0
	for ; x != 0; x &= x - 1 {
		c++
	}
	return c
}

// keyStep reads one byte of a property name. Declared names must be
// spelled exactly as encodeString spells them; the candidates are the
// declared names (seen ones too, so that an additional name can never
// repeat one) that start with the bytes read. An additional property's
// name runs through the string lexer without escapes, so that no other
// spelling of a declared name passes as a new property.
func keyStep(p path, b byte, out []path) []path {
	f := p.top
	n := f.n
	lo, hi := f.hi, f.lo
	for i := f.lo; i < f.hi; i++ {
		e := n.props[i].enc
		if int(f.count) < len(e) && e[f.count] == b {
			lo, hi = min(lo, i), max(hi, i+1)
		}
	}
	// A declared name going on with '"' is inside an escape: a name's
	// encoding never holds a bare quote.
	if b == '"' && lo >= hi {
		exact := int32(-1)
		for i := f.lo; i < f.hi; i++ {
			if len(n.props[i].enc) == int(f.count) {
				exact = i
			}
		}
		switch {
		case exact >= 0 && f.seen&(1<<exact) == 0:
			f.cur = exact
		case exact < 0 && f.addlKey && f.esc == 0 && f.utf == 0:
			f.cur = -1
		default:
			return out
		}
		f.sub = oColon
		return append(out, path{f, p.rest})
	}
	if lo >= hi {
		lo, hi = 0, 0
	}
	f.lo, f.hi = lo, hi
	if f.addlKey {
		c := f.count
		if closed, ok := f.strByte(b, -1, false); closed || !ok {
			f.addlKey, f.esc, f.utf = false, 0, 0
		}
		f.count = c
	}
	f.count++
	viable := f.addlKey
	for i := lo; i < hi && !viable; i++ {
		viable = f.seen&(1<<i) == 0
	}
	if !viable {
		return out
	}
	return append(out, path{f, p.rest})
}

func arrayStep(p path, b byte, out []path) []path {
	f := p.top
	n := f.n
	if isWS(b) {
		if f.space(b) {
			out = append(out, path{f, p.rest})
		}
		return out
	}
	f.ws = 0
	switch f.sub {
	case aOpen, aComma:
		if b == ']' && f.sub == aOpen && n.minItems == 0 {
			return append(out, pop(p.rest))
		}
		if n.maxItems >= 0 && int(f.count) >= n.maxItems {
			return out
		}
		parent := f
		parent.sub = aAfter
		parent.count++
		return dispatch(n.items, b, push(p.rest, parent), out)
	case aAfter:
		switch {
		case b == ',' && (n.maxItems < 0 || int(f.count) < n.maxItems):
			f.sub = aComma
			return append(out, path{f, p.rest})
		case b == ']' && int(f.count) >= n.minItems:
			return append(out, pop(p.rest))
		}
	}
	return out
}

// numByte advances a number by b, if the result can still become a number
// n accepts.
func numByte(n *node, s numState, b byte) (numState, bool) {
	integer := n.types&tNumber == 0
	digit := b >= '0' && b <= '9'
	switch {
	case s.exp:
		switch {
		case (b == '+' || b == '-') && !s.expSigned && s.expDigits == 0:
			s.expSigned = true
		case digit && s.expDigits < maxExpDigits:
			s.expDigits++
		default:
			return s, false
		}
		return s, true
	case b == '-':
		if s.neg || s.intDigits > 0 {
			return s, false
		}
		s.neg = true
	case digit:
		if s.intDigits+s.fracDigits >= maxNumberDigits {
			return s, false
		}
		if s.dot {
			s.fracDigits++
		} else {
			if s.intDigits == 1 && s.mant == 0 { // no digits after a leading 0
				return s, false
			}
			s.intDigits++
		}
		s.mant = s.mant*10 + uint64(b-'0')
	case b == '.':
		if integer || s.dot || s.intDigits == 0 {
			return s, false
		}
		s.dot = true
	case b == 'e' || b == 'E':
		if integer || n.bounded() || s.intDigits == 0 || s.dot && s.fracDigits == 0 {
			return s, false
		}
		s.exp = true
	default:
		return s, false
	}
	if n.bounded() && !numFeasible(n, s) {
		return s, false
	}
	return s, true
}

// numComplete reports whether the number read so far is one n accepts.
func numComplete(n *node, s numState) bool {
	if s.intDigits == 0 || s.dot && s.fracDigits == 0 || s.exp && s.expDigits == 0 {
		return false
	}
	if !n.bounded() {
		return true
	}
	return n.inRange(s.value())
}

func (s numState) value() float64 {
	v := float64(s.mant) / math.Pow(10, float64(s.fracDigits))
	if s.neg {
		v = -v
	}
	return v
}

// numFeasible reports whether some continuation of s (without exponent,
// within the digit limit) lies within n's bounds.
func numFeasible(n *node, s numState) bool {
	integer := n.types&tNumber == 0
	sign := 1.0
	if s.neg {
		sign = -1
	}
	// overlaps reports whether sign·[a, b] meets the bounds (with an
	// integer in it for integer schemas).
	overlaps := func(a, b float64) bool {
		lo, hi := sign*a, sign*b
		if lo > hi {
			lo, hi = hi, lo
		}
		l, h := max(lo, n.lo), min(hi, n.hi)
		if integer {
			cl, fh := math.Ceil(l), math.Floor(h)
			if cl == n.lo && n.loEx {
				cl++
			}
			if fh == n.hi && n.hiEx {
				fh--
			}
			return cl <= fh
		}
		if l < h {
			return true
		}
		return l == h && n.inRange(l)
	}
	// The reachable values are closed intervals: the digits still
	// allowed (left of them) can add at most 10^-f - 10^-(f+left).
	left := maxNumberDigits - int(s.intDigits) - int(s.fracDigits)
	pow := func(e int) float64 { return math.Pow(10, float64(e)) }
	switch {
	case s.intDigits == 0:
		return overlaps(0, math.Inf(1))
	case s.dot:
		f := int(s.fracDigits)
		v := float64(s.mant) / pow(f)
		return overlaps(v, v+pow(-f)-pow(-f-left))
	case s.mant == 0: // "0" or "-0": 0, or 0.xxx
		if integer || left == 0 {
			return overlaps(0, 0)
		}
		return overlaps(0, 1-pow(-left))
	}
	v := float64(s.mant)
	for k := 0; k <= left; k++ {
		p := pow(k)
		hi := (v+1)*p - 1 // k more integer digits
		if !integer && k < left {
			hi = (v+1)*p - pow(-(left - k)) // and a fraction
		}
		if overlaps(v*p, hi) {
			return true
		}
	}
	return false
}

// numClose is the fewest bytes that complete a number (0 when it is
// complete; infinite when no completion fits the digit limit).
func numClose(n *node, s numState) int {
	switch {
	case numComplete(n, s):
		return 0
	case !n.bounded():
		return 1 // a digit of the integer, fraction or exponent
	case s.intDigits == 0 && !s.neg:
		// No sign yet: a positive number, or '-' and a negative one.
		neg := s
		neg.neg = true
		return min(numRest(n, s), 1+numRest(n, neg))
	}
	return numRest(n, s)
}

// numRest is the shortest completion of a bounded number whose sign is
// decided, worked out on magnitudes: j more integer digits cover
// [v·10^j, (v+1)·10^j), a fraction of f digits adds a '.' and steps of
// 10^-f.
func numRest(n *node, s numState) int {
	lo, hi, loEx, hiEx := n.lo, n.hi, n.loEx, n.hiEx
	if s.neg {
		lo, hi, loEx, hiEx = -n.hi, -n.lo, n.hiEx, n.loEx
	}
	integer := n.types&tNumber == 0
	// hits reports whether a multiple of step lies in [a, b) within the
	// magnitude bounds.
	hits := func(a, b, step float64) bool {
		l, h := max(a, lo), min(b, hi)
		x := math.Ceil(l/step) * step
		if x == lo && loEx {
			x += step
		}
		return x < b && (x < h || x == h && !hiEx)
	}
	pow := func(e int) float64 { return math.Pow(10, float64(e)) }
	left := maxNumberDigits - int(s.intDigits) - int(s.fracDigits)
	best := infinite
	if s.dot {
		F := int(s.fracDigits)
		v := float64(s.mant) / pow(F)
		for f := 0; f <= left && f < best; f++ {
			if (F > 0 || f > 0) && hits(v, v+pow(-F), pow(-F-f)) {
				best = f
			}
		}
		return best
	}
	v, d := float64(s.mant), int(s.intDigits)
	for j := 0; j <= left; j++ {
		var a, b float64
		switch {
		case d == 0 && j == 0:
			continue
		case d == 0: // j digits from nothing: 0, or no leading zero
			a, b = pow(j-1), pow(j)
			if j == 1 {
				a = 0
			}
		case v == 0 && j > 0: // "0" takes no more integer digits
			continue
		default:
			a, b = v*pow(j), (v+1)*pow(j)
		}
		if hits(a, b, 1) {
			best = min(best, j)
		}
		if integer {
			continue
		}
		for f := 1; j+f <= left && j+1+f < best; f++ {
			if hits(a, b, pow(-f)) {
				best = j + 1 + f
			}
		}
	}
	return best
}

// close is the fewest bytes that complete frame f (its value, or the
// container it is, from the state it is in).
func (f *frame) close() int {
	n := f.n
	switch f.kind {
	case fDone:
		return 0
	case fValue:
		return n.minSize
	case fString:
		return f.strPending() + max(0, n.minLen-int(f.count)) + 1
	case fLiteral:
		m := infinite
		for i := f.lo; i < f.hi; i++ {
			m = min(m, len(n.lits[i])-int(f.count))
		}
		return m
	case fNumber:
		return numClose(n, f.num)
	case fArray:
		item := n.items.minSize
		switch f.sub {
		case aOpen:
			if n.minItems == 0 {
				return 1
			}
			return n.minItems*item + n.minItems
		case aAfter:
			return max(0, n.minItems-int(f.count))*(1+item) + 1
		default:
			k := max(1, n.minItems-int(f.count))
			return k*item + k
		}
	case fObject:
		switch f.sub {
		case oOpen:
			return n.objectRest(f.seen, true)
		case oAfter:
			return n.objectRest(f.seen, false)
		case oColon:
			vn, seen := n.addl, f.seen
			if f.cur >= 0 {
				vn, seen = n.props[f.cur].n, seen|1<<f.cur
			}
			return 1 + vn.minSize + n.objectRest(seen, false)
		case oComma:
			if f.seen&n.required != n.required {
				return n.objectRest(f.seen, true)
			}
			m := infinite
			for i, p := range n.props {
				if f.seen&(1<<i) == 0 && (!n.ordered || i == n.seq[popcount(f.seen)]) {
					m = min(m, len(p.enc)+3+p.n.minSize)
				}
			}
			if n.addl != nil {
				m = min(m, 3+n.addl.minSize)
			}
			return m + 1
		case oKey:
			m := infinite
			for i := f.lo; i < f.hi; i++ {
				p := n.props[i]
				if f.seen&(1<<i) == 0 {
					m = min(m, len(p.enc)-int(f.count)+2+p.n.minSize+n.objectRest(f.seen|1<<i, false))
				}
			}
			if f.addlKey {
				m = min(m, f.strPending()+2+n.addl.minSize+n.objectRest(f.seen, false))
			}
			return m
		}
	}
	return 0
}

func (p path) close() int {
	c := p.top.close()
	if p.rest != nil {
		c += p.rest.close
	}
	return c
}

func (p path) complete() bool {
	switch p.top.kind {
	case fDone:
		return true
	case fNumber:
		return p.rest == nil && numComplete(p.top.n, p.top.num)
	case fLiteral:
		return p.rest == nil && p.top.litComplete()
	}
	return false
}
