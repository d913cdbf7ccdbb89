package quantize

import "math/rand/v2"

// newRand returns a deterministic generator so failures reproduce.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

// randomCodes returns n ternary codes, with a bias so some tensors are
// mostly zero and others mostly ±1.
func randomCodes(r *rand.Rand, n int) []int8 {
	c := make([]int8, n)
	pZero := r.Float64()
	for i := range c {
		if r.Float64() < pZero {
			continue
		}
		c[i] = int8(2*r.IntN(2) - 1)
	}
	return c
}
