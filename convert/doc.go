// Package convert turns a Hugging Face checkpoint of a ternary ("1.58-bit")
// model into a GGUF file that bitnet.cpp and this project's runtime load, and
// makes dummy models of chosen sizes for tests and benchmarks.
//
// A checkpoint directory holds config.json, optional generation_config.json,
// a tokenizer (tokenizer.json, or a SentencePiece tokenizer.model, plus
// tokenizer_config.json) and the weights in model.safetensors or in shards
// listed by model.safetensors.index.json. OpenCheckpoint reads all of it
// without copying the weights (they stay in a memory map); Convert streams
// the GGUF out tensor by tensor, so peak memory is bounded by
// Options.MemoryBudget and not by the model size.
//
// # Architectures
//
// The HF architecture and hidden_act decide the GGUF architecture
// (FORMATS.md §6): BitNetForCausalLM or BitnetForCausalLM with relu2 →
// "bitnet-b1.58" (sub-norms, ReLU² FFN), the same with silu → "bitnet", and
// LlamaForCausalLM with quantization_config.quant_method "bitnet" → "llama"
// (q and k rows permuted for ggml's NORM rope, as llama.cpp's converter does).
// Anything else is refused, as is a checkpoint whose projections cannot be
// made ternary.
//
// # Weight sources and scales
//
// Projections come either as float masters (bf16/f16/f32), ternarized with
// absmean (FORMATS.md §2), or packed offline as uint8 [out/4, in] plus a
// weight_scale whose meaning depends on quantization_config.linear_class:
// "autobitlinear" means W = T·weight_scale, "bitlinear" (the default) means
// W = T/weight_scale. Either way the GGUF stores the ternary codes and one
// multiplicative per-tensor scale.
//
// # TL tiling metadata
//
// TL1 and TL2 byte layouts depend on tiling parameters that bitnet.cpp keeps
// in a build-time kernel_config.ini rather than in the file. Convert records
// the parameters it used for every weight shape, so a reader never has to
// guess: for each distinct projection shape [M, K] (M output rows, K inputs)
// it writes
//
//	bitnet.tl.<M>x<K> = [BM, BK, bm]   (array of uint32)
//
// and bitnet.tl.layout = "tl1" or "tl2". For the shapes bitnet.cpp ships
// kernels for, the parameters are bitnet.cpp's, so its TL files and ours are
// byte-compatible; other shapes get parameters chosen by TLParamsFor.
package convert
