package runtime

// Batch is a set of tokens evaluated in one forward pass. Tokens may belong
// to different sequences (KV cache slots); each token's position is the
// length of its sequence's cache at that point, so a sequence's tokens must
// appear in order, and they attend to each other causally.
type Batch struct {
	Tokens []int32
	Seqs   []int  // cache slot of each token
	Logits []bool // whether the forward returns logits for the token; nil means every token
}

// Add appends a token of sequence seq.
func (b *Batch) Add(token int32, seq int, logits bool) {
	if b.Logits == nil && len(b.Tokens) > 0 {
		// Materialise the implicit "all" before mixing in an explicit flag.
		b.Logits = make([]bool, len(b.Tokens))
		for i := range b.Logits {
			b.Logits[i] = true
		}
	}
	b.Tokens = append(b.Tokens, token)
	b.Seqs = append(b.Seqs, seq)
	b.Logits = append(b.Logits, logits)
}

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.Tokens, b.Seqs, b.Logits = b.Tokens[:0], b.Seqs[:0], b.Logits[:0]
}

// Len is the number of tokens.
func (b *Batch) Len() int { return len(b.Tokens) }

func (b *Batch) wantLogits(i int) bool { return b.Logits == nil || b.Logits[i] }
