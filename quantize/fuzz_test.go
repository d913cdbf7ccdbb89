package quantize

import "testing"

// FuzzUnpack feeds arbitrary bytes and shapes to every decoder: each must
// return an error or codes in {-1, 0, 1}, and never panic.
func FuzzUnpack(f *testing.F) {
	f.Add([]byte{0x24, 0x49, 0x92}, uint16(1), uint16(128), uint8(0), uint8(0))
	f.Add(make([]byte, 64), uint16(32), uint16(8), uint8(1), uint8(1))
	f.Add(make([]byte, 16), uint16(32), uint16(256), uint8(2), uint8(2))
	f.Add([]byte{0xFF}, uint16(8), uint16(3), uint8(3), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mm, kk uint16, kind, tiling uint8) {
		m, k := int(mm%512), int(kk%1024)
		if m*k > 1<<16 {
			return
		}
		dst := make([]int8, m*k)
		var err error
		var size int
		switch kind % 4 {
		case 0:
			size = m*k/4 + 32
			_, err = UnpackI2S(dst, grow(data, size), m, k)
		case 1:
			ps := tl1Tilings(m, k)
			if len(ps) == 0 {
				_, err = UnpackTL1(dst, data, m, k, TLParams{32, 8, 32})
				break
			}
			size = m*k/4 + 32
			_, err = UnpackTL1(dst, grow(data, size), m, k, ps[int(tiling)%len(ps)])
		case 2:
			ps := tl2Tilings(m, k)
			if len(ps) == 0 {
				_, err = UnpackTL2(dst, data, m, k, TLParams{32, 96, 32})
				break
			}
			size = tl2Bytes(m, k)
			_, err = UnpackTL2(dst, grow(data, size), m, k, ps[int(tiling)%len(ps)])
		case 3:
			size = m * k / 4
			err = UnpackHF(dst, grow(data, size), m, k)
		}
		if err != nil {
			return
		}
		for i, c := range dst {
			if c < -1 || c > 1 {
				t.Fatalf("decoded code %d = %d", i, c)
			}
		}
	})
}

// grow repeats data to n bytes so short fuzz inputs still reach the decoders.
func grow(data []byte, n int) []byte {
	if len(data) == 0 || n <= 0 {
		return make([]byte, max(n, 0))
	}
	out := make([]byte, n)
	for i := range out {
		out[i] = data[i%len(data)]
	}
	return out
}

// FuzzPackRoundTrip: any ternary tensor packs and unpacks unchanged in every
// layout whose shape constraints it meets.
func FuzzPackRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint16(32), uint16(256), uint8(0))
	f.Add([]byte{0}, uint16(64), uint16(128), uint8(5))
	f.Fuzz(func(t *testing.T, seed []byte, mm, kk uint16, tiling uint8) {
		m, k := 1+int(mm%320), 1+int(kk%640)
		if m*k > 1<<15 {
			return
		}
		codes := make([]int8, m*k)
		for i := range codes {
			if len(seed) > 0 {
				codes[i] = int8(seed[i%len(seed)]>>(i%4*2)&3%3) - 1
			}
		}
		back := make([]int8, m*k)
		check := func(what string, scale float32, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s M=%d K=%d: %v", what, m, k, err)
			}
			if scale != 0.75 || !equalCodes(back, codes) {
				t.Fatalf("%s M=%d K=%d: round trip differs", what, m, k)
			}
		}
		if m*k%128 == 0 {
			buf := make([]byte, m*k/4+32)
			if err := PackI2S(buf, codes, m, k, 0.75); err != nil {
				t.Fatal(err)
			}
			s, err := UnpackI2S(back, buf, m, k)
			check("I2_S", s, err)
		}
		if ps := tl1Tilings(m, k); len(ps) > 0 {
			p := ps[int(tiling)%len(ps)]
			buf := make([]byte, m*k/4+32)
			if err := PackTL1(buf, codes, m, k, p, 0.75); err != nil {
				t.Fatal(err)
			}
			s, err := UnpackTL1(back, buf, m, k, p)
			check("TL1 "+p.String(), s, err)
		}
		if ps := tl2Tilings(m, k); len(ps) > 0 {
			p := ps[int(tiling)%len(ps)]
			buf := make([]byte, tl2Bytes(m, k))
			if err := PackTL2(buf, codes, m, k, p, 0.75); err != nil {
				t.Fatal(err)
			}
			s, err := UnpackTL2(back, buf, m, k, p)
			check("TL2 "+p.String(), s, err)
		}
	})
}
