package pipeline

import (
	"bytes"
	"sync/atomic"
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

func TestProgressCountsItems(t *testing.T) {
	var buf bytes.Buffer
	var n atomic.Int64
	clock := time.Unix(0, 0)
	p := &progress{w: &buf, what: "reading rib", every: 100 * time.Millisecond, now: func() time.Time { return clock }, items: &n, unit: "routes"}
	p.update(0, 4_000_000)
	n.Store(1_500_000)
	clock = clock.Add(time.Second)
	p.update(2_000_000, 4_000_000)
	n.Store(2_400_000)
	clock = clock.Add(time.Second)
	p.update(4_000_000, 4_000_000)
	p.done()
	want := "\rreading rib:   0% (0.0 of 4.0 MB), 0 routes\033[K" +
		"\rreading rib:  50% (2.0 of 4.0 MB), 1.5M routes, 1.5M/s\033[K" +
		"\rreading rib: 100% (4.0 of 4.0 MB), 2.4M routes, 1.2M/s\033[K" +
		"\r\033[K"
	if got := buf.String(); got != want {
		t.Errorf("progress output\n got %q\nwant %q", got, want)
	}
}

func TestDrawBar(t *testing.T) {
	var buf bytes.Buffer
	drawBar(&buf, 1, 3)
	drawBar(&buf, 3, 3)
	want := "\rgenerate: [##########                    ] 1/3 customers" +
		"\rgenerate: [##############################] 3/3 customers\n"
	if buf.String() != want {
		t.Errorf("bar\n got %q\nwant %q", buf.String(), want)
	}
}
