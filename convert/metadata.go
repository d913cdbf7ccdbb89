package convert

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/bitnet-go/bitnet/quantize"
)

// FileType returns general.file_type for an output weight type, as
// llama.cpp's llama_ftype numbers it (FORMATS.md §1).
func FileType(t gguf.Type) (uint32, error) {
	switch t {
	case gguf.F32:
		return 0, nil
	case gguf.F16:
		return 1, nil
	case gguf.I2_S:
		return 40, nil
	case gguf.TL1:
		return 38, nil
	case gguf.TL2:
		return 39, nil
	}
	return 0, fmt.Errorf("%s is not a supported output type (want I2_S, TL1, TL2, F16 or F32)", t)
}

// ParseType maps a --type name (i2_s, tl1, tl2, f16, f32; any case) to a
// ggml type.
func ParseType(s string) (gguf.Type, error) {
	switch strings.ToLower(s) {
	case "i2_s", "i2s":
		return gguf.I2_S, nil
	case "tl1":
		return gguf.TL1, nil
	case "tl2":
		return gguf.TL2, nil
	case "f16":
		return gguf.F16, nil
	case "f32":
		return gguf.F32, nil
	}
	return 0, fmt.Errorf("unknown output type %q (want i2_s, tl1, tl2, f16 or f32)", s)
}

// EmbedType selects how token_embd (and an untied output head) is stored.
// Its zero value, EmbedDefault, keeps F32 for an F32 model and F16
// otherwise (what llama-quantize leaves them as).
type EmbedType int

// Embedding storage choices. EmbedF16 is what bitnet.cpp's --quant-embd
// gives.
const (
	EmbedDefault EmbedType = iota
	EmbedF16
	EmbedF32
	EmbedQ8_0
	EmbedQ6_K
)

// ParseEmbedType maps an --embed-type name (f16, q8_0, q6_k, f32; "" for
// the default) to an EmbedType.
func ParseEmbedType(s string) (EmbedType, error) {
	switch strings.ToLower(s) {
	case "":
		return EmbedDefault, nil
	case "f16":
		return EmbedF16, nil
	case "f32":
		return EmbedF32, nil
	case "q8_0":
		return EmbedQ8_0, nil
	case "q6_k":
		return EmbedQ6_K, nil
	}
	return 0, fmt.Errorf("unknown embedding type %q (want f16, q8_0, q6_k or f32)", s)
}

// ggmlType decides the storage type for a model of type model whose rows
// have cols elements. Like llama-quantize, a K-quant that the row length
// cannot carry falls back to Q8_0, and Q8_0 to F16.
func (e EmbedType) ggmlType(model gguf.Type, cols int) (gguf.Type, error) {
	var t gguf.Type
	switch e {
	case EmbedDefault:
		if model == gguf.F32 {
			return gguf.F32, nil
		}
		return gguf.F16, nil
	case EmbedF16:
		return gguf.F16, nil
	case EmbedF32:
		return gguf.F32, nil
	case EmbedQ8_0:
		t = gguf.Q8_0
	case EmbedQ6_K:
		t = gguf.Q6_K
	default:
		return 0, fmt.Errorf("invalid EmbedType %d", int(e))
	}
	if t == gguf.Q6_K && checkFloatType(t, cols) != nil {
		t = gguf.Q8_0
	}
	if t == gguf.Q8_0 && checkFloatType(t, cols) != nil {
		t = gguf.F16
	}
	return t, nil
}

// modelParams are the hyperparameters written as {arch}.* metadata.
type modelParams struct {
	arch         string
	name         string
	vocab        int
	context      int
	hidden       int
	layers       int
	ffn          int
	heads        int
	kvHeads      int
	headDim      int
	ropeTheta    float64
	rmsEps       float64
	ropeScaling  string // "" or "linear"
	ropeFactor   float64
	fileType     uint32
	quantized    bool
	tlLayout     string // "", "tl1", "tl2"
	tlShapes     map[[2]int]quantize.TLParams
	extraGeneral []gguf.KV
}

// kv renders the model metadata with llama.cpp's key names and value types
// (uint32 for sizes, float32 for θ and ε), so that bitnet.cpp loads our
// files. Every integer is range-checked: a value that does not fit its
// GGUF type is an error naming the key, never a silently wrapped number.
func (p *modelParams) kv() ([]gguf.KV, error) {
	a := p.arch
	var bad error
	u32 := func(key string, v int) gguf.KV {
		if (v < 0 || uint64(v) > math.MaxUint32) && bad == nil {
			bad = fmt.Errorf("metadata %s = %d does not fit the uint32 GGUF stores it as", key, v)
		}
		return gguf.KV{Key: key, Value: uint32(v)}
	}
	kv := []gguf.KV{
		{Key: "general.architecture", Value: a},
		{Key: "general.name", Value: p.name},
	}
	kv = append(kv, p.extraGeneral...)
	kv = append(kv, u32(a+".vocab_size", p.vocab))
	if p.context > 0 {
		kv = append(kv, u32(a+".context_length", p.context))
	}
	kv = append(kv,
		u32(a+".embedding_length", p.hidden),
		u32(a+".block_count", p.layers),
		u32(a+".feed_forward_length", p.ffn),
		u32(a+".rope.dimension_count", p.headDim),
		u32(a+".attention.head_count", p.heads),
		u32(a+".attention.head_count_kv", p.kvHeads),
	)
	if p.headDim*p.heads != p.hidden {
		kv = append(kv,
			u32(a+".attention.key_length", p.headDim),
			u32(a+".attention.value_length", p.headDim),
		)
	}
	kv = append(kv,
		gguf.KV{Key: a + ".attention.layer_norm_rms_epsilon", Value: float32(p.rmsEps)},
		gguf.KV{Key: a + ".rope.freq_base", Value: float32(p.ropeTheta)},
	)
	if p.ropeScaling != "" {
		kv = append(kv,
			gguf.KV{Key: a + ".rope.scaling.type", Value: p.ropeScaling},
			gguf.KV{Key: a + ".rope.scaling.factor", Value: float32(p.ropeFactor)},
		)
	}
	kv = append(kv, gguf.KV{Key: "general.file_type", Value: p.fileType})
	if p.quantized {
		kv = append(kv, gguf.KV{Key: "general.quantization_version", Value: uint32(2)})
	}
	if p.tlLayout != "" {
		kv = append(kv, tlKV(p.tlLayout, p.tlShapes)...)
	}
	return kv, bad
}

// TLKeyPrefix starts the metadata keys recording TL tiling (see the package
// documentation): bitnet.tl.layout and bitnet.tl.<M>x<K>.
const TLKeyPrefix = "bitnet.tl."

// TLShapeKey is the metadata key holding [BM, BK, bm] for M×K tensors.
func TLShapeKey(m, k int) string { return fmt.Sprintf("%s%dx%d", TLKeyPrefix, m, k) }

func tlKV(layout string, shapes map[[2]int]quantize.TLParams) []gguf.KV {
	kv := []gguf.KV{{Key: TLKeyPrefix + "layout", Value: layout}}
	keys := make([][2]int, 0, len(shapes))
	for s := range shapes {
		keys = append(keys, s)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, s := range keys {
		p := shapes[s]
		kv = append(kv, gguf.KV{Key: TLShapeKey(s[0], s[1]), Value: gguf.Array{Elem: gguf.Uint32, Values: []uint32{uint32(p.BM), uint32(p.BK), uint32(p.Bm)}}})
	}
	return kv
}

// tlParams chooses (or takes from overrides) the tiling of an M×K tensor
// for a TL type and checks that it can tile the shape.
func tlParams(typ gguf.Type, m, k int, overrides map[[2]int]quantize.TLParams) (quantize.TLParams, error) {
	if p, ok := overrides[[2]int{m, k}]; ok {
		var err error
		if typ == gguf.TL1 {
			err = p.ValidateTL1(m, k)
		} else {
			err = p.ValidateTL2(m, k)
		}
		return p, err
	}
	if typ == gguf.TL1 {
		return quantize.TL1Params(m, k)
	}
	return quantize.TL2Params(m, k)
}
