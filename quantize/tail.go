package quantize

import (
	"encoding/binary"
	"math"
)

// tailBytes is the trailer of every I2_S, TL1 and TL2 tensor: float32 scale
// then 28 padding bytes (gguf.BitnetTailBytes; repeated here because this
// package imports nothing internal).
const tailBytes = 32

// putTail writes the scale and zeroes the 28 padding bytes that bitnet.cpp
// leaves uninitialised, so our files are reproducible.
func putTail(tail []byte, scale float32) {
	binary.LittleEndian.PutUint32(tail, math.Float32bits(scale))
	clear(tail[4:tailBytes])
}

// getTail reads the scale; the padding is never looked at.
func getTail(tail []byte) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(tail))
}

// badCode reports a code outside {-1, 0, 1} at flat index i of an M×K tensor.
func badCode(op string, m, k, i int, c int8) error {
	return newErr(op, shapeMK(m, k), ErrValue, "code [%d][%d] is %d, not in {-1,0,1}", i/k, i%k, c)
}

// checkCodes returns an error naming the first code outside {-1, 0, 1}.
func checkCodes(op string, m, k int, codes []int8) error {
	for _, c := range codes {
		if uint8(c+1) > 2 {
			return findBadCode(op, m, k, codes)
		}
	}
	return nil
}

// findBadCode locates the first invalid code; called only after a fast loop
// has noticed one, so the common path stays branch-light.
func findBadCode(op string, m, k int, codes []int8) error {
	for i, c := range codes {
		if c < -1 || c > 1 {
			return badCode(op, m, k, i, c)
		}
	}
	return nil
}
