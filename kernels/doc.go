// Package kernels holds every hot loop of the model: per-token int8
// activation quantization, the W2A8 ternary matmul on bitnet.cpp's I2_S
// layout, dense matmuls for the output head and embeddings (F32, F16, BF16,
// Q8_0, Q6_K), and the small elementwise operations (RMSNorm, RoPE, softmax,
// gated activations, attention).
//
// Every kernel has a pure-Go reference in a *_generic.go file; the reference
// defines the result. Assembly versions (amd64: AVX2 and AVX-512 VNNI,
// generated with avo from kernels/_asm) are chosen once at init from cpuid
// and must reproduce the reference bit for bit; the tests run every path the
// CPU offers against it. The purego build tag selects the references
// everywhere.
//
// Floating-point results are exact against the reference because the
// reference is written in the order the vector code computes: dense dot
// products use 32 interleaved lanes (lane j sums the products at k ≡ j mod 32,
// each product fused into its lane's sum, rounded once as FMA does) and a fixed reduction tree, and
// the ternary matmul forms the exact integer sum before its two float
// operations (FORMATS.md §4).
package kernels

//go:generate sh -c "cd _asm && go run . -out ../asm_amd64.s -stubs ../asm_amd64.go -pkg kernels"
