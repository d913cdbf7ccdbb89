package runtime

import (
	"errors"
	"fmt"

	"github.com/bitnet-go/bitnet/kernels"
)

// ErrContextFull is returned when a sequence would grow past the context
// length.
var ErrContextFull = errors.New("context is full")

// Cache is the float32 key/value cache of a Session: a fixed number of
// sequence slots, each holding up to Context positions of every layer.
// A slot's memory grows with its sequence (doubling), so many mostly short
// sequences cost little.
//
// Methods used by the models (unexported): reserve computes the positions
// of a batch's tokens and makes room for them, put stores one token's key
// and value, view returns a sequence's keys and values for attention, and
// commit makes the batch's positions part of the sequences.
//
// Cache management (exported): Len, Truncate, Free, Seqs and Context.
type Cache struct {
	layers, kvHeads, headDim, ctx int
	slots                         []cacheSlot
	pending                       []int // per slot: positions reserved by the current batch
}

// cacheSlot holds one sequence. Its layers are head-major,
// [kvHeads][capN][headDim], so attention reads each head's keys and values
// as two contiguous runs, which the hardware prefetchers follow; position-
// major rows would give it headDim floats out of every row, a new page
// every row or two.
type cacheSlot struct {
	n    int         // positions committed
	capN int         // positions allocated
	k, v [][]float32 // per layer, [kvHeads][capN][headDim]
}

func newCache(c *Config, ctx, seqs int) *Cache {
	return &Cache{layers: c.Layers, kvHeads: c.KVHeads, headDim: c.HeadDim, ctx: ctx,
		slots: make([]cacheSlot, seqs), pending: make([]int, seqs)}
}

// Seqs is the number of sequence slots.
func (c *Cache) Seqs() int { return len(c.slots) }

// Context is the most positions one sequence can hold.
func (c *Cache) Context() int { return c.ctx }

// Len is the number of positions sequence seq holds.
func (c *Cache) Len(seq int) int {
	if seq < 0 || seq >= len(c.slots) {
		return 0
	}
	return c.slots[seq].n
}

// Truncate drops the positions from n on of sequence seq (to rewind a
// conversation or reuse a common prefix); a larger n is an error.
func (c *Cache) Truncate(seq, n int) error {
	if seq < 0 || seq >= len(c.slots) {
		return fmt.Errorf("sequence %d: no such slot (cache has %d)", seq, len(c.slots))
	}
	if n < 0 || n > c.slots[seq].n {
		return fmt.Errorf("sequence %d: cannot truncate %d positions to %d", seq, c.slots[seq].n, n)
	}
	c.slots[seq].n = n
	return nil
}

// Free empties sequence seq. The slot keeps its memory for the next
// sequence it holds: a server's slots serve one request after another, and
// zeroing and regrowing every request's cache from 16 positions cost more
// than a percent of a busy server's time. What stays allocated is at most
// what each slot once held.
func (c *Cache) Free(seq int) {
	if seq >= 0 && seq < len(c.slots) {
		c.slots[seq].n = 0
	}
}

// reserve assigns each token of b its position and makes sure the slots can
// hold them. Nothing changes on error.
func (c *Cache) reserve(b *Batch, pos []int) error {
	clear(c.pending)
	for i, s := range b.Seqs {
		if s < 0 || s >= len(c.slots) {
			return fmt.Errorf("batch token %d: sequence %d: no such slot (cache has %d)", i, s, len(c.slots))
		}
		p := c.slots[s].n + c.pending[s]
		if p >= c.ctx {
			return fmt.Errorf("sequence %d: %w: %d tokens do not fit a context of %d", s, ErrContextFull, c.slots[s].n+countSeq(b.Seqs, s), c.ctx)
		}
		pos[i] = p
		c.pending[s]++
	}
	for s, add := range c.pending {
		if add > 0 {
			c.grow(s, c.slots[s].n+add)
		}
	}
	return nil
}

func countSeq(seqs []int, s int) int {
	n := 0
	for _, x := range seqs {
		if x == s {
			n++
		}
	}
	return n
}

// grow makes room for n positions in slot s.
func (c *Cache) grow(s, n int) {
	sl := &c.slots[s]
	if n <= sl.capN {
		return
	}
	capN := max(sl.capN*2, n, 16)
	capN = min(capN, c.ctx)
	if sl.k == nil {
		sl.k = make([][]float32, c.layers)
		sl.v = make([][]float32, c.layers)
	}
	hd := c.headDim
	for l := range c.layers {
		k := make([]float32, c.kvHeads*capN*hd)
		v := make([]float32, c.kvHeads*capN*hd)
		for h := range c.kvHeads {
			copy(k[h*capN*hd:], sl.k[l][h*sl.capN*hd:][:sl.n*hd])
			copy(v[h*capN*hd:], sl.v[l][h*sl.capN*hd:][:sl.n*hd])
		}
		sl.k[l], sl.v[l] = k, v
	}
	sl.capN = capN
}

// put stores the key and value ([kvHeads*headDim] each) of the token at
// position pos of sequence seq.
func (c *Cache) put(layer, seq, pos int, k, v []float32) {
	sl := &c.slots[seq]
	hd := c.headDim
	for h := range c.kvHeads {
		copy(sl.k[layer][(h*sl.capN+pos)*hd:][:hd], k[h*hd:])
		copy(sl.v[layer][(h*sl.capN+pos)*hd:][:hd], v[h*hd:])
	}
}

// view returns the keys and values of sequence seq in one layer and their
// layout; positions up to the last put are valid.
func (c *Cache) view(layer, seq int) (k, v []float32, lay kernels.KVLayout) {
	sl := &c.slots[seq]
	return sl.k[layer], sl.v[layer], kernels.KVLayout{HeadStride: sl.capN * c.headDim, PosStride: c.headDim}
}

// commit adds the positions reserved by the last reserve to the sequences.
func (c *Cache) commit() {
	for s, add := range c.pending {
		c.slots[s].n += add
	}
	clear(c.pending)
}
