package pipeline

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressRedrawsAtMostEveryInterval(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	p := &progress{w: &buf, what: "loading IRR data", every: 100 * time.Millisecond, now: func() time.Time { return clock }}
	p.update(0, 2_000_000)
	p.update(500_000, 2_000_000) // same instant: suppressed
	clock = clock.Add(150 * time.Millisecond)
	p.update(1_000_000, 2_000_000)
	clock = clock.Add(150 * time.Millisecond)
	p.update(3_000_000, 2_000_000) // a compressed file may read past its size: capped
	p.done()
	want := "\rloading IRR data:   0% (0.0 of 2.0 MB)" +
		"\rloading IRR data:  50% (1.0 of 2.0 MB)" +
		"\rloading IRR data: 100% (3.0 of 2.0 MB)" +
		"\r\033[K"
	if got := buf.String(); got != want {
		t.Errorf("progress output\n got %q\nwant %q", got, want)
	}
}
