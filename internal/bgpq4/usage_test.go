package bgpq4

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
)

// TestUsageAgainstBGPQ4: every way bgpq4 prints its usage or version text (no
// objects, an unknown flag, a flag missing its argument, -v) prints bgpq4 1.16's
// text byte for byte: the installed bgpq4 (1.9) is run and its text rewritten by
// peer.NormalizeBGPQ4From19, whose usage rules are the whole 1.9 → 1.16 diff of
// main.c usage() (-n2, -3 and -p added, -w reworded, the version).
func TestUsageAgainstBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	for _, args := range [][]string{{}, {"-x", "AS-X"}, {"-l"}, {"-J"}, {"-v"}} {
		r := peer.BGPQ4(t, bin, "127.0.0.1:9", nil, args...) // never connects: it stops at the flags
		var o, e bytes.Buffer
		code := Run(context.Background(), args, nil, irr.NewIndex(), &o, &e)
		want := peer.NormalizeBGPQ4From19(r.Stdout)
		if code != r.Code || o.String() != want || e.String() != strings.ReplaceAll(r.Stderr, bin+": ", "bgpq4: ") {
			t.Errorf("bgpq4 %q: exit %d vs ours %d\n--- bgpq4 (1.16 text):\n%s%s--- ours:\n%s%s", args, r.Code, code, want, r.Stderr, o.String(), e.String())
		}
	}
}
