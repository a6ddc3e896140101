package pipeline

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestUnifiedDiffAppliesWithPatch: GNU patch, an independent program, turns the old
// text into the new one with UnifiedDiff's output, over random edits (and texts
// without a final newline).
func TestUnifiedDiffAppliesWithPatch(t *testing.T) {
	patch := peer.Require(t, "patch")
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 200 {
		var a []string
		for i := range rng.IntN(60) {
			a = append(a, fmt.Sprintf("line %d %d\n", i, rng.IntN(5)))
		}
		b := append([]string(nil), a...)
		for range rng.IntN(8) {
			switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0:
				b = append(b[:i], append([]string{fmt.Sprintf("new %d\n", rng.IntN(100))}, b[i:]...)...)
			case 1:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			default:
				if i < len(b) {
					b[i] = fmt.Sprintf("changed %d\n", rng.IntN(100))
				}
			}
		}
		at, bt := strings.Join(a, ""), strings.Join(b, "")
		if iter%7 == 0 {
			at = strings.TrimSuffix(at, "\n")
		}
		if iter%5 == 0 {
			bt = strings.TrimSuffix(bt, "\n")
		}
		d := UnifiedDiff("a/f", "b/f", []byte(at), []byte(bt))
		if (d == "") != (at == bt) {
			t.Fatalf("iter %d: diff %q for equal=%v", iter, d, at == bt)
		}
		if d == "" {
			continue
		}
		af, pf, out := filepath.Join(dir, "a"), filepath.Join(dir, "p"), filepath.Join(dir, "out")
		os.WriteFile(af, []byte(at), 0o644)
		os.WriteFile(pf, []byte(d), 0o644)
		os.Remove(out)
		// No fuzz, and no hunk found at an offset: the line numbers must be right.
		msg, err := exec.Command(patch, "--fuzz=0", "-o", out, af, pf).CombinedOutput()
		if err != nil || strings.Contains(string(msg), "offset") || strings.Contains(string(msg), "fuzz") {
			t.Fatalf("iter %d: patch: %v %s\n--- a\n%s\n--- diff\n%s", iter, err, msg, at, d)
		}
		if got, _ := os.ReadFile(out); string(got) != bt {
			t.Fatalf("iter %d: patched text differs\n got %q\nwant %q\ndiff:\n%s", iter, got, bt, d)
		}
	}
}
