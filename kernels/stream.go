package kernels

import (
	"runtime"
	"time"
	"unsafe"
)

// StreamBandwidth measures the memory read bandwidth the pool's threads
// achieve, in bytes per second: the roofline of decoding, which reads every
// weight once per token. It streams two separately allocated buffers of the
// given size (use one well beyond the last-level cache, e.g. 512 MiB) reps
// times each and returns the best pass. Two buffers because on some virtual
// machines the bandwidth depends on where the host placed the memory (the
// same call was seen to alternate between 23 and 31 GB/s from one
// allocation to the next): the best is the conservative roofline.
func StreamBandwidth(p *Pool, bytes, reps int) float64 {
	best := 0.0
	for range 2 {
		buf := make([]byte, bytes)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = byte(i >> 12) // untouched pages would all read the kernel's shared zero page
		}
		best = max(best, StreamRead(p, buf, reps))
		runtime.KeepAlive(buf)
	}
	return best
}

// StreamRead streams data (for instance a model's mapped weights) reps
// times with the vectorised max-abs loop of activation quantization and
// returns the best pass in bytes per second; a first untimed pass faults
// the pages in. Only whole 256 KiB chunks are read.
func StreamRead(p *Pool, data []byte, reps int) float64 {
	const chunk = 1 << 16 // float32s
	blocks := len(data) / (4 * chunk)
	if blocks == 0 {
		return 0
	}
	x := unsafe.Slice((*float32)(unsafe.Pointer(&data[0])), blocks*chunk)
	sink := make([]float32, max(p.Threads(), 1))
	best := 0.0
	for r := range max(reps, 1) + 1 {
		start := time.Now()
		p.RunChunks(blocks, func(c, lo, hi int) {
			var m float32
			for i := lo; i < hi; i++ {
				m = max(m, absMax(x[i*chunk:(i+1)*chunk]))
			}
			sink[c] = m
		})
		if bw := float64(blocks*chunk*4) / time.Since(start).Seconds(); r > 0 && bw > best {
			best = bw
		}
	}
	runtime.KeepAlive(sink)
	return best
}
