package convert

import (
	"hash/fnv"
	"math/bits"
)

// rng is wyrand: a tiny, fast generator whose whole output sequence is fixed
// by its seed, which is what reproducible dummy models need (math/rand/v2's
// generators would do too, but this one fills gigabytes about twice as fast).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// splitmix64 scrambles seeds so that neighbouring seeds give unrelated
// streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// streamRNG returns the generator for one named stream of a seeded model
// (a tensor, or a chunk of one): the same seed and name always give the same
// values, whatever order tensors are produced in.
func streamRNG(seed uint64, name string, part int) *rng {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &rng{s: splitmix64(seed ^ splitmix64(h.Sum64()^uint64(part)*0x9e3779b97f4a7c15))}
}

// normals fills dst with approximately normal values of standard deviation
// sigma: the sum of four 16-bit uniforms, centred and scaled (Irwin–Hall),
// which is plenty for random weights and costs one draw per value.
func (r *rng) normals(dst []float32, sigma float32) {
	const k = 1.7320508 / 65536 // √3 / 2^16: four uniforms on [0,1) have variance 1/3
	for i := range dst {
		x := r.next()
		s := (x & 0xffff) + (x >> 16 & 0xffff) + (x >> 32 & 0xffff) + (x >> 48)
		dst[i] = (float32(s) - 2*65536) * k * sigma
	}
}

// i2sByteTable maps a random byte to a valid I2_S byte: four 2-bit codes
// in {0, 1, 2}, chosen from the 81 combinations (b mod 81, so the spread is
// slightly uneven, which does not matter for dummy weights).
var i2sByteTable = func() (t [256]byte) {
	for b := range 256 {
		c := b % 81
		var v byte
		for range 4 {
			v = v<<2 | byte(c%3)
			c /= 3
		}
		t[b] = v
	}
	return t
}()

// i2sBytes fills dst with random valid I2_S code bytes.
func (r *rng) i2sBytes(dst []byte) {
	for i := 0; i < len(dst); i += 8 {
		x := r.next()
		for j := 0; j < 8 && i+j < len(dst); j++ {
			dst[i+j] = i2sByteTable[byte(x>>(8*j))]
		}
	}
}
