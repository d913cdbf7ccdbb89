package runtime

import "fmt"

// CopyPrefix makes sequence dst hold the first n positions of sequence src,
// replacing what dst held: the keys and values are copied, not computed
// again. A server answering one prompt with several choices reads the
// prompt once this way, at the cost of a memory copy per choice.
func (c *Cache) CopyPrefix(dst, src, n int) error {
	if dst < 0 || dst >= len(c.slots) || src < 0 || src >= len(c.slots) {
		return fmt.Errorf("copy from sequence %d to %d: no such slot (cache has %d)", src, dst, len(c.slots))
	}
	if dst == src {
		return fmt.Errorf("copy of sequence %d onto itself", src)
	}
	if n < 0 || n > c.slots[src].n {
		return fmt.Errorf("sequence %d holds %d positions, cannot copy %d", src, c.slots[src].n, n)
	}
	c.slots[dst].n = 0
	if n == 0 {
		return nil
	}
	c.grow(dst, n)
	s, d := &c.slots[src], &c.slots[dst]
	hd := c.headDim
	for l := range c.layers {
		for h := range c.kvHeads {
			copy(d.k[l][h*d.capN*hd:][:n*hd], s.k[l][h*s.capN*hd:][:n*hd])
			copy(d.v[l][h*d.capN*hd:][:n*hd], s.v[l][h*s.capN*hd:][:n*hd])
		}
	}
	d.n = n
	return nil
}
