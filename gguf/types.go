package gguf

import (
	"fmt"
	"math/bits"
	"sync"
)

// Type is a ggml tensor type id as stored in a GGUF tensor info.
type Type uint32

// The ggml type ids used in this project. I2_S = 36 is the only portable
// bitnet id (FORMATS.md §1); TL1 and TL2 are variables because forks renumber
// them (see SetTLIDs).
const (
	F32   Type = 0
	F16   Type = 1
	Q4_0  Type = 2
	Q8_0  Type = 8
	Q6_K  Type = 14
	BF16  Type = 30
	TQ1_0 Type = 34
	TQ2_0 Type = 35
	I2_S  Type = 36
)

// TL1 and TL2 are the ids of bitnet.cpp's lookup-table layouts. The Jan-2026
// fork uses 38 and 39; newer forks number TL2 differently (42). Change them
// only through SetTLIDs.
var (
	TL1 Type = 38
	TL2 Type = 39
)

var tlMu sync.RWMutex

// SetTLIDs changes the ids read and written for TL1 and TL2. It affects every
// later Parse, Open, Encode and TensorBytes call in the process.
func SetTLIDs(tl1, tl2 Type) error {
	if tl1 == tl2 {
		return fmt.Errorf("gguf: TL1 and TL2 ids must differ (both %d)", tl1)
	}
	for _, id := range []Type{tl1, tl2} {
		if _, fixed := fixedTypes[id]; fixed {
			return fmt.Errorf("gguf: TL id %d collides with ggml type %s", id, fixedTypes[id].name)
		}
	}
	tlMu.Lock()
	TL1, TL2 = tl1, tl2
	tlMu.Unlock()
	return nil
}

// typeInfo describes the storage of a block-quantized ggml type: blockSize
// elements are stored in blockBytes bytes.
type typeInfo struct {
	name       string
	blockSize  uint64
	blockBytes uint64
}

// fixedTypes is the one table of ggml type ids, block sizes and block bytes.
// The bitnet types (I2_S, TL1, TL2) are not block types: their sizes are
// formulas over the whole tensor (see TensorBytes).
var fixedTypes = map[Type]typeInfo{
	F32:   {"F32", 1, 4},
	F16:   {"F16", 1, 2},
	Q4_0:  {"Q4_0", 32, 18},   // f16 d + 16 bytes of nibbles
	Q8_0:  {"Q8_0", 32, 34},   // f16 d + 32 int8
	Q6_K:  {"Q6_K", 256, 210}, // ql[128] qh[64] scales[16] f16 d
	BF16:  {"BF16", 1, 2},
	TQ1_0: {"TQ1_0", 256, 54}, // qs[48] qh[4] f16 d
	TQ2_0: {"TQ2_0", 256, 66}, // qs[64] f16 d
}

// BitnetTailBytes is the size of the trailer of every I2_S, TL1 and TL2
// tensor: a float32 per-tensor scale followed by 28 padding bytes.
const BitnetTailBytes = 32

// String returns ggml's name for the type, or "type(N)" for unknown ids.
func (t Type) String() string {
	if info, ok := fixedTypes[t]; ok {
		return info.name
	}
	tlMu.RLock()
	defer tlMu.RUnlock()
	switch t {
	case I2_S:
		return "I2_S"
	case TL1:
		return "TL1"
	case TL2:
		return "TL2"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether t is a type this project can size.
func (t Type) Known() bool {
	if _, ok := fixedTypes[t]; ok {
		return true
	}
	tlMu.RLock()
	defer tlMu.RUnlock()
	return t == I2_S || t == TL1 || t == TL2
}

// IsTernary reports whether t is one of bitnet.cpp's 2-bit ternary layouts.
func (t Type) IsTernary() bool {
	tlMu.RLock()
	defer tlMu.RUnlock()
	return t == I2_S || t == TL1 || t == TL2
}

// TypeByName returns the type whose String() is name (case-sensitive).
func TypeByName(name string) (Type, bool) {
	for id, info := range fixedTypes {
		if info.name == name {
			return id, true
		}
	}
	tlMu.RLock()
	defer tlMu.RUnlock()
	switch name {
	case "I2_S":
		return I2_S, true
	case "TL1":
		return TL1, true
	case "TL2":
		return TL2, true
	}
	return 0, false
}

// MaxDims is ggml's limit on tensor dimensions.
const MaxDims = 4

// Elements returns the product of the dimensions, or an error if it
// overflows uint64.
func Elements(shape []uint64) (uint64, error) {
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, fmt.Errorf("shape %v: element count overflows", shape)
		}
		n = lo
	}
	return n, nil
}

// TensorBytes returns the exact number of bytes a tensor of type t and shape
// (ggml order: shape[0] = ne0 is the contiguous dimension) occupies in a
// GGUF data section, before alignment padding.
//
// bitnet.cpp declares I2_S/TL1/TL2 with block size 1 and type size 1, so its
// own row_size is 4x too large; the real sizes are (FORMATS.md §1):
//
//	I2_S, TL1: n/4 + 32
//	TL2:       roundup32(F) + 32, F = (((K-256)*M)/3)*5/8 + 256*M/2*4/8
func TensorBytes(t Type, shape []uint64) (uint64, error) {
	if len(shape) == 0 || len(shape) > MaxDims {
		return 0, fmt.Errorf("shape %v: need 1 to %d dimensions", shape, MaxDims)
	}
	n, err := Elements(shape)
	if err != nil {
		return 0, err
	}
	if info, ok := fixedTypes[t]; ok {
		if shape[0]%info.blockSize != 0 {
			return 0, fmt.Errorf("shape %v: %s needs rows that are a multiple of %d elements", shape, t, info.blockSize)
		}
		blocks := n / info.blockSize
		hi, lo := bits.Mul64(blocks, info.blockBytes)
		if hi != 0 {
			return 0, fmt.Errorf("shape %v: byte size overflows", shape)
		}
		return lo, nil
	}
	tlMu.RLock()
	i2s, tl1, tl2 := t == I2_S, t == TL1, t == TL2
	tlMu.RUnlock()
	switch {
	case i2s, tl1:
		if n%4 != 0 {
			return 0, fmt.Errorf("shape %v: %s needs a multiple of 4 elements", shape, t)
		}
		return n/4 + BitnetTailBytes, nil
	case tl2:
		return tl2Bytes(shape, n)
	}
	return 0, fmt.Errorf("unknown ggml type id %d", uint32(t))
}

// tl2Bytes evaluates bitnet.cpp's TL2 size formula with its integer
// arithmetic, left to right. K is ne0 and M the product of the rest.
func tl2Bytes(shape []uint64, n uint64) (uint64, error) {
	k := shape[0]
	if k < 256 {
		return 0, fmt.Errorf("shape %v: TL2 needs K >= 256", shape)
	}
	m := n / k
	// The products below stay far from overflow for any n that passed
	// Elements: (K-256)*M <= n, and the constant factors are < 2^4.
	if n > 1<<58 {
		return 0, fmt.Errorf("shape %v: TL2 byte size overflows", shape)
	}
	f := (((k-256)*m)/3)*5/8 + 256*m/2*4/8
	return roundUp(f, 32) + BitnetTailBytes, nil
}

func roundUp(n, a uint64) uint64 { return (n + a - 1) / a * a }
