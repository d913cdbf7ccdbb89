package convert

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/internal/atomicfile"
	"github.com/bitnet-go/bitnet/quantize"
)

// hfTensor is a tensor of a dummy checkpoint, generated while written.
type hfTensor struct {
	name  string
	dtype string
	shape []uint64
	size  int64
	write func(ctx context.Context, w io.Writer) error
}

// WriteDummyHF writes a Hugging Face checkpoint of the given layout into dir
// (config.json, generation_config.json, tokenizer.json,
// tokenizer_config.json and the weights: bf16 masters, or packed ternary
// projections with opts.Packed), which Convert and OpenCheckpoint accept.
// Each file is written atomically and streamed, so any size fits in memory.
func WriteDummyHF(ctx context.Context, dir string, opts DummyOptions) error {
	l, cfg, a, specs, err := dummyModel(opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var tensors []hfTensor
	for _, s := range specs {
		tensors = append(tensors, dummyHFTensors(s.Weight, a, opts)...)
	}
	tok := builtinTokenizer(l.Tokenizer)
	tj, err := tok.tokenizerJSON()
	if err != nil {
		return err
	}
	tc, err := tok.tokenizerConfigJSON()
	if err != nil {
		return err
	}
	// The weights go first and config.json last: a run interrupted
	// anywhere leaves no config.json, so the directory never passes for a
	// complete checkpoint.
	if err := writeSafetensorsShards(ctx, dir, tensors, opts.MaxShardBytes, opts.Progress); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "tokenizer_config.json"), tc, 0o644); err != nil {
		return err
	}
	gen := tok.generation()
	files := []struct {
		name string
		v    any
	}{
		{"generation_config.json", map[string]any{"bos_token_id": gen.BOSTokenID.First(), "eos_token_id": []int(gen.EOSTokenID), "do_sample": false}},
		{"config.json", hfConfigJSON(l, cfg)},
	}
	for _, f := range files {
		b, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// hfConfigJSON renders config.json the way transformers writes one for the
// layout's architecture.
func hfConfigJSON(l Layout, c *Config) map[string]any {
	m := map[string]any{
		"architectures":           c.Architectures,
		"model_type":              c.ModelType,
		"hidden_size":             c.HiddenSize,
		"intermediate_size":       c.IntermediateSize,
		"num_hidden_layers":       c.NumHiddenLayers,
		"num_attention_heads":     c.NumAttentionHeads,
		"num_key_value_heads":     c.NumKeyValueHeads,
		"vocab_size":              c.VocabSize,
		"max_position_embeddings": c.MaxPositionEmbeddings,
		"rms_norm_eps":            c.RMSNormEps,
		"rope_theta":              c.RopeTheta,
		"hidden_act":              c.HiddenAct,
		"tie_word_embeddings":     l.Tied,
		"torch_dtype":             c.TorchDType,
		"attention_bias":          false,
		"initializer_range":       0.02,
		"use_cache":               true,
	}
	if c.HeadDim*c.NumAttentionHeads != c.HiddenSize || l.HFArchitecture == "LlamaForCausalLM" {
		m["head_dim"] = c.HeadDim
	}
	if q := c.Quantization; q != nil {
		m["quantization_config"] = map[string]any{
			"quant_method": q.QuantMethod, "linear_class": q.LinearClass, "quantization_mode": q.QuantizationMode,
		}
	}
	return m
}

// hfChunk is the number of elements a dummy tensor generates at a time.
const hfChunk = 1 << 20

// dummyHFTensors returns the checkpoint tensors behind one GGUF tensor.
func dummyHFTensors(w Weight, a *Arch, opts DummyOptions) []hfTensor {
	shape := []uint64{uint64(w.Rows), uint64(w.Cols)}
	if w.Role == RoleNorm {
		shape = shape[1:]
	}
	n := int64(w.Rows) * int64(w.Cols)
	if w.Role == RoleProjection && opts.Packed {
		scale := dummyScale(w.Cols)
		ws := scale // autobitlinear: W = T·ws
		if a.LinearClass == LinearClassBitLinear {
			ws = 1 / scale // bitlinear: W = T/ws
		}
		return []hfTensor{
			{
				name: w.HFName, dtype: "U8", shape: []uint64{uint64(w.Rows / 4), uint64(w.Cols)}, size: n / 4,
				write: func(ctx context.Context, out io.Writer) error {
					// Any byte whose four 2-bit fields are 0..2 is four valid
					// packed codes, so random I2_S bytes are random packed rows.
					return chunked(ctx, out, n/4, func(buf []byte, from int64) {
						streamRNG(opts.Seed, w.HFName, int(from)).i2sBytes(buf)
					})
				},
			},
			{
				name: w.HFName + "_scale", dtype: "BF16", shape: []uint64{1}, size: 2,
				write: func(ctx context.Context, out io.Writer) error {
					var b [2]byte
					if err := quantize.F32ToBF16(b[:], []float32{ws}); err != nil {
						return err
					}
					_, err := out.Write(b[:])
					return err
				},
			},
		}
	}
	sigma := float32(dummyMasterSigma)
	if w.Role == RoleEmbedding || w.Role == RoleOutput {
		sigma = dummyEmbedSigma
	}
	return []hfTensor{{
		name: w.HFName, dtype: "BF16", shape: shape, size: 2 * n,
		write: func(ctx context.Context, out io.Writer) error {
			f := make([]float32, hfChunk)
			return chunked(ctx, out, 2*n, func(buf []byte, from int64) {
				vals := f[:len(buf)/2]
				if w.Role == RoleNorm {
					for i := range vals {
						vals[i] = 1
					}
				} else {
					streamRNG(opts.Seed, w.HFName, int(from)).normals(vals, sigma)
				}
				_ = quantize.F32ToBF16(buf, vals)
			})
		},
	}}
}

// chunked writes size bytes produced by fill in chunks of at most 2·hfChunk
// bytes (an even number, so 2-byte elements never straddle chunks).
func chunked(ctx context.Context, out io.Writer, size int64, fill func(buf []byte, from int64)) error {
	buf := make([]byte, min(size, 2*hfChunk))
	for from := int64(0); from < size; from += int64(len(buf)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		b := buf[:min(int64(len(buf)), size-from)]
		fill(b, from)
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// writeSafetensorsShards writes tensors into one model.safetensors, or, when
// maxShard > 0 and they do not fit, into numbered shards and an index.
func writeSafetensorsShards(ctx context.Context, dir string, tensors []hfTensor, maxShard int64, progress func(done, total int64)) error {
	var shards [][]hfTensor
	var cur []hfTensor
	var curSize, total int64
	for _, t := range tensors {
		total += t.size
		if maxShard > 0 && len(cur) > 0 && curSize+t.size > maxShard {
			shards = append(shards, cur)
			cur, curSize = nil, 0
		}
		cur = append(cur, t)
		curSize += t.size
	}
	shards = append(shards, cur)
	var done int64
	report := func(n int64) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}
	if len(shards) == 1 {
		return writeSafetensors(ctx, filepath.Join(dir, "model.safetensors"), shards[0], report)
	}
	weightMap := map[string]string{}
	for i, s := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		if err := writeSafetensors(ctx, filepath.Join(dir, name), s, report); err != nil {
			return err
		}
		for _, t := range s {
			weightMap[t.name] = name
		}
	}
	idx, err := json.MarshalIndent(map[string]any{
		"metadata":   map[string]any{"total_size": total},
		"weight_map": weightMap,
	}, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), append(idx, '\n'), 0o644)
}

// writeSafetensors streams one safetensors file: an 8-byte header length,
// the JSON header (tensors in file order, padded with spaces to a multiple
// of 8 as the reference implementation does), then the data.
func writeSafetensors(ctx context.Context, path string, tensors []hfTensor, report func(int64)) error {
	var hdr bytes.Buffer
	hdr.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	for _, t := range tensors {
		name, _ := json.Marshal(t.name)
		shape, _ := json.Marshal(t.shape)
		fmt.Fprintf(&hdr, `,%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, name, t.dtype, shape, off, off+t.size)
		off += t.size
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<20)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(hdr.Len()))
	bw.Write(n[:])
	bw.Write(hdr.Bytes())
	for _, t := range tensors {
		cw := &countingWriter{w: bw, report: report}
		if err := t.write(ctx, cw); err != nil {
			return fmt.Errorf("%s: tensor %s: %w", path, t.name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	return f.Commit()
}
