package runtime

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// readFits reports whether reading the file at path into memory leaves a
// quarter of the available memory (MemAvailable of /proc/meminfo) free.
// When either size is unknown the file is mapped.
func readFits(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false
	}
	avail := memAvailable()
	return avail > 0 && st.Size() <= avail/4*3
}

// memAvailable is MemAvailable in bytes, or 0 when unknown.
func memAvailable() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}
