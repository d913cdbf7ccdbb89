package convert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/nlpodyssey/safetensors"
)

// This file is the only user of github.com/nlpodyssey/safetensors: it parses
// and validates the header over the memory-mapped file, and the tensors we
// hand out are sub-slices of the map (no copy).

// shard is one opened .safetensors file.
type shard struct {
	path    string
	m       *mapping
	tensors []*Tensor // in file order
}

// openShard maps and validates a safetensors file.
func openShard(path string) (*shard, error) {
	m, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	s, err := parseShard(path, m)
	if err != nil {
		m.close()
		return nil, err
	}
	return s, nil
}

func parseShard(path string, m *mapping) (*shard, error) {
	name := filepath.Base(path)
	buf := m.data
	if len(buf) < 8 {
		return nil, fmt.Errorf("%s: %d bytes is too short for a safetensors file (truncated?)", path, len(buf))
	}
	hlen := binary.LittleEndian.Uint64(buf)
	if hlen > uint64(len(buf)-8) {
		return nil, fmt.Errorf("%s: header length %d runs past the end of the file (%d bytes): truncated or not a safetensors file", path, hlen, len(buf))
	}
	n, md, err := safetensors.ReadMetadata(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, diagnoseShard(buf, hlen, err))
	}
	dataStart := 8 + n
	infos := md.Tensors()
	s := &shard{path: path, m: m, tensors: make([]*Tensor, 0, len(infos))}
	for tname, info := range infos {
		start, end := dataStart+info.DataOffsets[0], dataStart+info.DataOffsets[1]
		t := &Tensor{
			Name:  tname,
			DType: info.DType.String(),
			Shape: append([]uint64(nil), info.Shape...),
			Data:  buf[start:end:end],
			File:  name,
			shard: s,
			off:   int(start),
		}
		s.tensors = append(s.tensors, t)
	}
	sort.Slice(s.tensors, func(i, j int) bool { return s.tensors[i].off < s.tensors[j].off })
	return s, nil
}

// diagnoseShard turns the library's terse validation errors into one that
// says what is wrong with the file. It re-reads only the header, and only
// after the library has rejected the file.
func diagnoseShard(buf []byte, hlen uint64, libErr error) string {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+hlen], &raw); err != nil {
		return fmt.Sprintf("corrupt safetensors header: %v", err)
	}
	dataLen := uint64(len(buf)) - 8 - hlen
	var maxEnd uint64
	for name, r := range raw {
		if name == "__metadata__" {
			continue
		}
		var ti struct {
			DataOffsets []uint64 `json:"data_offsets"`
		}
		if json.Unmarshal(r, &ti) != nil || len(ti.DataOffsets) != 2 {
			continue
		}
		if ti.DataOffsets[1] > dataLen {
			return fmt.Sprintf("tensor %q: data [%d, %d) points outside the file (data section is %d bytes): truncated file or corrupt header",
				name, ti.DataOffsets[0], ti.DataOffsets[1], dataLen)
		}
		maxEnd = max(maxEnd, ti.DataOffsets[1])
	}
	if maxEnd < dataLen {
		return fmt.Sprintf("%d bytes after the last tensor: not a valid safetensors file (%v)", dataLen-maxEnd, libErr)
	}
	return fmt.Sprintf("invalid safetensors file: %v", libErr)
}

func (s *shard) close() error { return s.m.close() }
