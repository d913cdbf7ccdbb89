// Package runtime loads a ternary (1.58-bit) model from a GGUF file and runs
// it: the forward pass over a batch of tokens, a KV cache shared by several
// independent sequences, sampling and generation.
//
// # Loading
//
// Load opens a GGUF written by this project's converter or by bitnet.cpp's
// own tools. The architectures are those of FORMATS.md §6: "bitnet-b1.58"
// and its older name "bitnet-25" (ReLU² feed-forward), "bitnet" (SiLU), both
// with sub-norms and NEOX rope, and "llama" (SiLU, NORM rope, no sub-norms).
// Ternary projections in I2_S are used in place, straight from the memory
// map; TL1 and TL2 tensors are repacked once at load into I2_S codes in
// memory (their tiling comes from the file's bitnet.tl.<M>x<K> metadata, or
// bitnet.cpp's presets for files bitnet.cpp wrote). F32, F16 and BF16
// projections (the F32 GGUFs bitnet.cpp's converters write) run as dense
// float matmuls; embeddings and the output head may be F32, F16, BF16, Q8_0
// or Q6_K.
//
// # Arithmetic
//
// All arithmetic goes through package kernels, so that faster kernels never
// touch the model code. Every ternary matmul quantizes its input per token to
// int8 first (FORMATS.md §4). Dense projections do not: that is what
// bitnet.cpp computes for its F32 files, and it is what makes this runtime's
// logits on those files agree with bitnet.cpp's to a few 1e-3. The KV cache
// holds float32 (bitnet.cpp's holds F16, one source of the small differences
// between the two).
//
// # Sequences and batches
//
// A Session owns a KV cache with a fixed number of sequence slots and the
// scratch memory of the forward pass. Tokens of different sequences can be
// evaluated in one forward pass (a Batch names each token's sequence);
// Sequence is a convenient handle on one slot with its own token history and
// last logits. Generate runs the usual prompt-then-sample loop on a Sequence.
package runtime
