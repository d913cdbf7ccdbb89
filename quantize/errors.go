package quantize

import (
	"errors"
	"fmt"
	"math"
)

// The kinds of failure, for errors.Is. Every error returned by this package is
// an *Error that wraps exactly one of them.
var (
	// ErrLength: a slice does not have the length the shape requires.
	ErrLength = errors.New("wrong length")
	// ErrShape: the shape (or tiling) cannot be represented in the layout.
	ErrShape = errors.New("unsupported shape")
	// ErrValue: an input value is invalid (NaN/Inf weight, code outside
	// {-1,0,1}, bad scale, an encoded byte no encoder produces).
	ErrValue = errors.New("invalid value")
)

// Error describes input that an operation rejected.
type Error struct {
	Op     string // exported function that failed, e.g. "PackI2S"
	Shape  string // the shape involved, e.g. "M=3200 K=8640" or "n=100"
	Kind   error  // ErrLength, ErrShape or ErrValue
	Detail string // human-readable reason
}

func (e *Error) Error() string {
	return fmt.Sprintf("quantize: %s [%s]: %v: %s", e.Op, e.Shape, e.Kind, e.Detail)
}

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

func shapeMK(m, k int) string { return fmt.Sprintf("M=%d K=%d", m, k) }
func shapeN(n int) string     { return fmt.Sprintf("n=%d", n) }

func newErr(op, shape string, kind error, format string, args ...any) *Error {
	return &Error{Op: op, Shape: shape, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// checkMK validates a 2-D shape and returns M*K, refusing sizes that would
// overflow an int or index past any slice Go can allocate.
func checkMK(op string, m, k int) (int, error) {
	if m <= 0 || k <= 0 {
		return 0, newErr(op, shapeMK(m, k), ErrShape, "dimensions must be positive")
	}
	// Far beyond any model on 64-bit platforms, and low enough that the
	// layouts' index and size arithmetic (at most ×5 of M·K) cannot overflow.
	const maxElems = math.MaxInt / 64
	if m > maxElems/k {
		return 0, newErr(op, shapeMK(m, k), ErrShape, "tensor too large")
	}
	return m * k, nil
}

// needLen reports a slice of the wrong length.
func needLen(op, shape, what string, got, want int) error {
	if got != want {
		return newErr(op, shape, ErrLength, "%s has %d elements, want %d", what, got, want)
	}
	return nil
}
