package kernels

import (
	"runtime"
	"time"
)

// StreamBandwidth measures the memory read bandwidth the pool's threads
// achieve, in bytes per second: the roofline of decoding, which reads every
// weight once per token. It streams a buffer of the given size (use one
// well beyond the last-level cache, e.g. 512 MiB) reps times with the
// vectorised max-abs loop of activation quantization and returns the best
// pass.
func StreamBandwidth(p *Pool, bytes, reps int) float64 {
	x := make([]float32, bytes/4)
	for i := range x {
		x[i] = float32(i & 1023)
	}
	const chunk = 1 << 16
	blocks := len(x) / chunk
	sink := make([]float32, max(p.Threads(), 1)*16)
	best := 0.0
	for range max(reps, 1) {
		start := time.Now()
		p.Run(blocks, func(lo, hi int) {
			var m float32
			for i := lo; i < hi; i++ {
				m = max(m, absMax(x[i*chunk:(i+1)*chunk]))
			}
			sink[(lo*len(sink)/max(blocks, 1))%len(sink)] = m
		})
		if bw := float64(blocks*chunk*4) / time.Since(start).Seconds(); bw > best {
			best = bw
		}
	}
	runtime.KeepAlive(sink)
	return best
}
