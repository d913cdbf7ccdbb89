package hub

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws one bar per file being downloaded and one for the total,
// redrawn in place at most every redrawEvery. A nil *progress (and a nil
// *fileBar) does nothing, so callers never test whether bars are on.
type progress struct {
	w        io.Writer
	mu       sync.Mutex
	bars     []*fileBar
	total    int64
	lines    int // lines drawn last time, to move back over them
	last     time.Time
	maxShown int
}

type fileBar struct {
	p          *progress
	name       string
	size, done int64
	finished   bool
}

const redrawEvery = 150 * time.Millisecond

// newProgress returns bars on c.Progress if it is a terminal, else nil.
func (c *Client) newProgress(total int64) *progress {
	f, ok := c.Progress.(*os.File)
	if !ok || f == nil || !isTerminal(f) {
		return nil
	}
	return &progress{w: f, total: total, maxShown: 8}
}

func (p *progress) file(name string, size int64) *fileBar {
	if p == nil {
		return nil
	}
	b := &fileBar{p: p, name: name, size: size}
	p.mu.Lock()
	p.bars = append(p.bars, b)
	p.mu.Unlock()
	return b
}

// skip takes n bytes out of the total: a file counted in it turned out not
// to need downloading.
func (p *progress) skip(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.total -= n
	p.mu.Unlock()
}

func (b *fileBar) add(n int64) {
	if b == nil {
		return
	}
	b.p.mu.Lock()
	b.done += n
	b.p.drawLocked(false)
	b.p.mu.Unlock()
}

// set moves the bar to n bytes (a resume starts part-way; a restart at 0).
func (b *fileBar) set(n int64) {
	if b == nil {
		return
	}
	b.p.mu.Lock()
	b.done = n
	b.p.drawLocked(false)
	b.p.mu.Unlock()
}

func (b *fileBar) finish() {
	if b == nil {
		return
	}
	b.p.mu.Lock()
	b.done, b.finished = b.size, true
	b.p.drawLocked(true)
	b.p.mu.Unlock()
}

// close draws the final state and leaves the cursor below it.
func (p *progress) close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.drawLocked(true)
	p.lines = 0
	p.mu.Unlock()
}

func (p *progress) drawLocked(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < redrawEvery {
		return
	}
	p.last = now
	var sb strings.Builder
	if p.lines > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", p.lines)
	}
	var done int64
	shown := 0
	for _, b := range p.bars {
		done += b.done
		if b.finished || shown >= p.maxShown {
			continue
		}
		shown++
		sb.WriteString("\x1b[2K" + barLine(b.name, b.done, b.size) + "\n")
	}
	sb.WriteString("\x1b[2K" + barLine("total", done, p.total) + "\n")
	// Clear lines left over from a taller previous frame.
	for i := shown + 1; i < p.lines; i++ {
		sb.WriteString("\x1b[2K\n")
	}
	if extra := p.lines - (shown + 1); extra > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", extra)
	}
	p.lines = shown + 1
	io.WriteString(p.w, sb.String())
}

func barLine(name string, done, size int64) string {
	const width = 30
	if len(name) > 40 {
		name = "…" + name[len(name)-39:]
	}
	frac := 1.0
	if size > 0 {
		frac = min(float64(done)/float64(size), 1)
	}
	n := int(frac * width)
	return fmt.Sprintf("%-40s [%s%s] %5.1f%% %s/%s", name, strings.Repeat("=", n), strings.Repeat(" ", width-n),
		100*frac, humanBytes(done), humanBytes(size))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
