// Package quantize holds the bit layouts of every weight format the project
// reads or writes: ternary absmean quantization, Hugging Face 2-bit packed
// checkpoints, bitnet.cpp's I2_S, TL1 and TL2, and ggml's F16, BF16, Q8_0 and
// Q6_K. Everything here is a pure function on slices: no I/O, no global state,
// no internal imports, so the converter (write side), the runtime (read side)
// and the tests all share one definition of each layout.
//
// Ternary tensors are []int8 codes in {-1, 0, +1}, row-major [M][K] with K
// fastest: the same order as a GGUF tensor with ne0 = K and ne1 = M.
//
// Byte sizes are not decided here: they live in package gguf
// (gguf.TensorBytes). Pack functions write into a caller-provided dst of
// exactly that size and return an error when the length differs, so a
// disagreement between the two packages is caught at the first tensor rather
// than producing a file whose scale sits at the wrong offset.
//
// The I2_S, TL1 and TL2 tensors end in a 32-byte tail: the float32 per-tensor
// scale (little endian) and 28 bytes that this package always writes as zero
// (bitnet.cpp leaves them uninitialised, so readers never look at them).
//
// All functions are safe for concurrent use on disjoint slices. The block
// formats (F16, BF16, Q8_0, Q6_K) quantize each block independently, so a
// caller may split a large tensor at row boundaries across goroutines (Q6_K's
// scale search makes it the slowest by far); I2_S, TL1 and TL2 carry one scale
// per tensor and pack it whole.
//
// Every function reports bad input (wrong lengths, shapes a layout cannot
// cover, NaN or Inf weights, codes outside a layout's range) as an *Error that
// names the operation, the shape and the reason; none of them panics.
package quantize
