package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
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

// TestNoProgressWithoutTerminal: a pipeline (stderr not a TTY) gets no progress line.
func TestNoProgressWithoutTerminal(t *testing.T) {
	db := filepath.Join(peer.RepoRoot(t), "examples", "irr")
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"bgpfilter", "--irr", db, "expand", "AS-EXAMPLE"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress drawn on a non-terminal stderr: %q", stderr.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code := Run(context.Background(), []string{"bgpfilter", "--irr", db, "expand", "AS-EXAMPLE"}, &stdout, f); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(f.Name())
	if strings.Contains(string(b), "\r") {
		t.Errorf("progress drawn into a regular file: %q", b)
	}
}
