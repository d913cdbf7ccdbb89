// Package verify checks that a GGUF conversion of a ternary model is
// lossless. It runs an independent reference forward pass straight from the
// Hugging Face checkpoint, in float64 and written for reading rather than
// speed, with Hugging Face's BitNet semantics (absmean ternary weights or the
// packed codes with their weight_scale meaning, per-token absmax int8
// activations before every BitLinear), and compares the runtime's logits on
// the GGUF against it.
//
// The reference shares no arithmetic with the runtime or the kernels: it
// reads raw tensors through the convert package's checkpoint reader and does
// its own ternarization, unpacking, normalization, rotary embedding and
// attention. A disagreement therefore points at the converter or the
// runtime, not at a helper both happen to share.
package verify
