package pipeline

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line "what: 42% (12.3 of 29.0 MB)" indicator for long loads. It
// is only used when stderr is a terminal: pipelines and log files get no carriage-return
// noise.
type progress struct {
	w     io.Writer
	what  string
	every time.Duration
	now   func() time.Time

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
	p.last = t
	p.drawn = true
	if total > 0 {
		pct := read * 100 / total
		if pct > 100 {
			pct = 100
		}
		fmt.Fprintf(p.w, "\r%s: %3d%% (%.1f of %.1f MB)", p.what, pct, float64(read)/1e6, float64(total)/1e6)
		return
	}
	fmt.Fprintf(p.w, "\r%s: %.1f MB", p.what, float64(read)/1e6)
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

// TerminalProgress returns a Progress function for IRRSpec that draws on w when w is
// a terminal; nil otherwise (pipelines and log files get no carriage-return noise).
func TerminalProgress(w io.Writer) func(what string) (func(read, total int64), func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(what string) (func(read, total int64), func()) {
		p := &progress{w: f, what: what, every: 100 * time.Millisecond, now: time.Now}
		return p.update, p.done
	}
}
