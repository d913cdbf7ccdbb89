package gguf

import (
	"bytes"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the reader. It must never panic or
// over-allocate, and whatever it accepts must survive a write/read round trip.
func FuzzParse(f *testing.F) {
	f.Add(encode(f, allValuesKV(), sampleTensors()))
	f.Add(encode(f, []KV{{AlignmentKey, uint32(64)}}, sampleTensors()[:2]))
	f.Add(tensorFile(36, []uint64{128, 2}, 0, 96))
	f.Add([]byte("GGUF\x03\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, ti := range file.Tensors {
			if uint64(len(ti.Data)) != ti.Size {
				t.Fatalf("tensor %q: view of %d bytes, size %d", ti.Name, len(ti.Data), ti.Size)
			}
		}
		first := reencode(t, file)
		again, err := Parse(first)
		if err != nil {
			t.Fatalf("re-encoded file rejected: %v", err)
		}
		// Comparing encodings rather than values keeps NaN metadata equal.
		if !bytes.Equal(reencode(t, again), first) {
			t.Fatal("write → read → write changed the bytes")
		}
	})
}
