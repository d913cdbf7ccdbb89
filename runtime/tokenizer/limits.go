package tokenizer

// MaxTokenBytes is the length in bytes of the longest token text: no token
// stands for more bytes of input than that, so a text of n bytes has at
// least n/MaxTokenBytes tokens. A server uses it to refuse, before
// tokenizing, a prompt that cannot fit its context.
func (t *Tokenizer) MaxTokenBytes() int {
	t.maxBytesOnce.Do(func() {
		for _, s := range t.tokens {
			t.maxBytes = max(t.maxBytes, len(s))
		}
	})
	return t.maxBytes
}

// maxPooledRunes bounds the scratch kept for later Encode calls: a huge
// text gets its buffers, but they are not kept alive in the pool after it
// (several concurrent huge prompts would otherwise pin gigabytes).
const maxPooledRunes = 1 << 16

// putScratch returns sc to the pool unless it grew too large to keep.
func putScratch(sc *scratch) {
	if cap(sc.cp.r) > maxPooledRunes || cap(sc.spansA) > maxPooledRunes || cap(sc.syms) > maxPooledRunes {
		return
	}
	scratchPool.Put(sc)
}
