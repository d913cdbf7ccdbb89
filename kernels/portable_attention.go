package kernels

// dotRowsPortable is dotRowsGeneric with fmaFast: lane i%32 of row p
// fuses r[i]·x[i] in the same order, whole groups of 32 through fmaLanes32,
// the last k%32 elements one by one (no padding, as in the reference).
func dotRowsPortable(out, rows []float32, stride int, x []float32, n int) {
	k := len(x)
	full := k / denseLane * denseLane
	for p := 0; p < n; p++ {
		r := rows[p*stride:][:k]
		var acc [denseLane]float32
		for i := 0; i < full; i += denseLane {
			fmaLanes32(&acc, (*[denseLane]float32)(r[i:i+denseLane]), (*[denseLane]float32)(x[i:i+denseLane]))
		}
		for i := full; i < k; i++ {
			acc[i-full] = fmaFast(r[i], x[i], acc[i-full])
		}
		out[p] = dotReduce(&acc)
	}
}

// weightedSumPortable is weightedSumGeneric with fmaFast.
func weightedSumPortable(o, v []float32, stride int, w []float32) {
	clear(o)
	for p, wgt := range w {
		vp := v[p*stride:][:len(o)]
		for d := range o {
			// fmaFast written out.
			if s := float64(wgt)*float64(vp[d]) + float64(o[d]); !fmaRare(s) {
				o[d] = float32(s)
			} else {
				o[d] = fma32(wgt, vp[d], o[d])
			}
		}
	}
}

// fmaLanes32 is fmaLanes for float32 weights r.
func fmaLanes32(acc, r, x *[denseLane]float32) {
	for j, rj := range r {
		if s := float64(rj)*float64(x[j]) + float64(acc[j]); !fmaRare(s) {
			acc[j] = float32(s)
		} else {
			acc[j] = fma32(rj, x[j], acc[j])
		}
	}
}
