package pipeline

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line "what: 42% (12.3 of 29.0 MB)" indicator for long loads,
// with ", 1.2M routes, 310k/s" when it counts items (an MRT RIB of millions of routes
// shows how far it is and how fast it goes). It is only used when stderr is a
// terminal: pipelines and log files get no carriage-return noise.
type progress struct {
	w     io.Writer
	what  string
	every time.Duration
	now   func() time.Time
	// items, when set, counts what was parsed so far (unit names it, e.g. "routes").
	items *atomic.Int64
	unit  string
	start time.Time

	mu    sync.Mutex
	last  time.Time
	drawn bool
}

// update is the irr.LoadOptions.Progress callback; it redraws at most every p.every.
func (p *progress) update(read, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	if p.drawn && t.Sub(p.last) < p.every {
		return
	}
	if !p.drawn {
		p.start = t
	}
	p.last = t
	p.drawn = true
	var line string
	if total > 0 {
		pct := read * 100 / total
		if pct > 100 {
			pct = 100
		}
		line = fmt.Sprintf("\r%s: %3d%% (%.1f of %.1f MB)", p.what, pct, float64(read)/1e6, float64(total)/1e6)
	} else {
		line = fmt.Sprintf("\r%s: %.1f MB", p.what, float64(read)/1e6)
	}
	if p.items != nil {
		n := p.items.Load()
		line += ", " + humanCount(n) + " " + p.unit
		if el := t.Sub(p.start).Seconds(); el >= 0.5 {
			line += ", " + humanCount(int64(float64(n)/el)) + "/s"
		}
		line += "\033[K" // the line may be shorter than the previous one
	}
	fmt.Fprint(p.w, line)
}

// humanCount renders 1234567 as "1.2M" and 31000 as "31k".
func humanCount(n int64) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// done clears the indicator line so that later messages start on a clean line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// ProgressFunc starts the progress indicator of one long read: what names it; items,
// when not nil, counts what the caller parsed so far (unit names it, e.g. "routes").
// It returns the callback of the reader and the finish function.
type ProgressFunc func(what string, items *atomic.Int64, unit string) (update func(read, total int64), done func())

// TerminalProgress returns a ProgressFunc that draws on w when w is a terminal; nil
// otherwise (pipelines and log files get no carriage-return noise).
func TerminalProgress(w io.Writer) ProgressFunc {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(what string, items *atomic.Int64, unit string) (func(read, total int64), func()) {
		p := &progress{w: f, what: what, every: 100 * time.Millisecond, now: time.Now, items: items, unit: unit}
		return p.update, p.done
	}
}

// TerminalBar returns a generate progress bar ("generate: [#####     ] 12/40
// customers") drawn on w when w is a terminal, nil otherwise (then each customer is a
// log line).
func TerminalBar(w io.Writer) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(done, total int) { drawBar(f, done, total) }
}

// drawBar draws one state of the bar; the last one ends the line.
func drawBar(w io.Writer, done, total int) {
	const width = 30
	n := 0
	if total > 0 {
		n = done * width / total
	}
	fmt.Fprintf(w, "\rgenerate: [%s%s] %d/%d customers", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
	if done >= total {
		fmt.Fprint(w, "\n")
	}
}
