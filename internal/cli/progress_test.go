package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

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
