package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bitnet-go/bitnet/gguf"
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newInspectCmd) }

func newInspectCmd() *cobra.Command {
	var asJSON, onlyTensors bool
	cmd := &cobra.Command{
		Use:   "inspect FILE.gguf",
		Short: "Print a GGUF file's metadata and tensor table",
		Long: `inspect validates a GGUF file and prints its architecture, every metadata key
(long arrays summarised) and its tensor table (name, type, shape, bytes, offset),
like llama.cpp's gguf-dump. --tensors prints only the tensor table.`,
		Example: `  bitnet inspect model.gguf
  bitnet inspect --tensors model.gguf | grep I2_S
  bitnet inspect --json model.gguf | jq '.tensors[0]'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := gguf.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			out := cmd.OutOrStdout()
			if asJSON {
				return writeInspectJSON(out, args[0], f, onlyTensors)
			}
			if !onlyTensors {
				writeInspectHeader(out, args[0], f)
				writeInspectMetadata(out, f)
				fmt.Fprintln(out)
			}
			return writeInspectTensors(out, f)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	cmd.Flags().BoolVar(&onlyTensors, "tensors", false, "print only the tensor table")
	return cmd
}

func writeInspectHeader(w io.Writer, path string, f *gguf.File) {
	var dataBytes uint64
	for _, t := range f.Tensors {
		dataBytes += t.Size
	}
	fmt.Fprintf(w, "%s: GGUF v%d, architecture %q, %d metadata keys, %d tensors, %s of tensor data (alignment %d)\n\n",
		path, f.Version, f.Arch(), len(f.KV), len(f.Tensors), humanBytes(dataBytes), f.Alignment)
}

func writeInspectMetadata(w io.Writer, f *gguf.File) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tVALUE")
	for _, kv := range f.KV {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", kv.Key, valueTypeName(kv.Value), summarizeValue(kv.Value, 8))
	}
	tw.Flush()
}

func writeInspectTensors(w io.Writer, f *gguf.File) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tTYPE\tSHAPE\tBYTES\tOFFSET")
	for i, t := range f.Tensors {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\n", i, t.Name, t.Type, shapeString(t.Shape), t.Size, f.DataOffset+t.Offset)
	}
	return tw.Flush()
}

func shapeString(shape []uint64) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.FormatUint(d, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func valueTypeName(v any) string {
	if a, ok := v.(gguf.Array); ok {
		return fmt.Sprintf("[%s×%d]", a.Elem, a.Len())
	}
	return reflect.TypeOf(v).String()
}

// summarizeValue renders a metadata value on one line: strings quoted and
// cut at 80 characters, arrays as their first n elements.
func summarizeValue(v any, n int) string {
	switch x := v.(type) {
	case string:
		q := strconv.Quote(x)
		if len(q) > 80 {
			q = q[:77] + "…"
		}
		return q
	case gguf.Array:
		rv := reflect.ValueOf(x.Values)
		parts := []string{}
		for i := 0; i < rv.Len() && i < n; i++ {
			parts = append(parts, summarizeValue(rv.Index(i).Interface(), n))
		}
		if rv.Len() > n {
			parts = append(parts, fmt.Sprintf("… %d more", rv.Len()-n))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// Arrays longer than this are summarised in JSON too: a Llama-3 vocabulary
// has 280147 merges, which nobody wants in an inspect dump.
const jsonArrayLimit = 64

type inspectJSON struct {
	Path         string         `json:"path"`
	Version      uint32         `json:"version"`
	Architecture string         `json:"architecture"`
	Alignment    uint64         `json:"alignment"`
	DataOffset   uint64         `json:"data_offset"`
	Metadata     []metadataJSON `json:"metadata,omitempty"`
	Tensors      []tensorJSON   `json:"tensors"`
}

type metadataJSON struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Len   *int   `json:"len,omitempty"`
	Value any    `json:"value"`
}

type tensorJSON struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	TypeID uint32   `json:"type_id"`
	Shape  []uint64 `json:"shape"`
	Bytes  uint64   `json:"bytes"`
	Offset uint64   `json:"offset"`
}

func writeInspectJSON(w io.Writer, path string, f *gguf.File, onlyTensors bool) error {
	doc := inspectJSON{Path: path, Version: f.Version, Architecture: f.Arch(), Alignment: f.Alignment,
		DataOffset: f.DataOffset, Tensors: []tensorJSON{}}
	if !onlyTensors {
		for _, kv := range f.KV {
			m := metadataJSON{Key: kv.Key, Type: valueTypeName(kv.Value), Value: jsonValue(kv.Value)}
			if a, ok := kv.Value.(gguf.Array); ok {
				n := a.Len()
				m.Type, m.Len = "array", &n
			}
			doc.Metadata = append(doc.Metadata, m)
		}
	}
	for _, t := range f.Tensors {
		doc.Tensors = append(doc.Tensors, tensorJSON{Name: t.Name, Type: t.Type.String(), TypeID: uint32(t.Type),
			Shape: t.Shape, Bytes: t.Size, Offset: f.DataOffset + t.Offset})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// jsonValue makes a metadata value encodable: arrays are cut to their first
// elements and non-finite floats become strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float32:
		return jsonFloat(float64(x))
	case float64:
		return jsonFloat(x)
	case gguf.Array:
		rv := reflect.ValueOf(x.Values)
		n := min(rv.Len(), jsonArrayLimit)
		out := make([]any, n)
		for i := range n {
			out[i] = jsonValue(rv.Index(i).Interface())
		}
		return out
	}
	return v
}

func jsonFloat(f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

func humanBytes(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
