package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// TestMaxReplyFlag: --max-reply bounds every whois reply. Against a well-behaved
// server whose "!i" answer for AS-CUST is 39 bytes, a 32-byte bound fails the run with
// exit 3, names the bound, and leaves the previous --output as it was; the same run
// with a 1KiB bound (and with the default) writes the filter. An invalid size is a
// usage error (exit 1). (Failing first: without the flag plumbing the 32-byte run
// exits 0.)
func TestMaxReplyFlag(t *testing.T) {
	srv := whoisfault.Start(t, remoteData(), whoisfault.Fault{Kind: whoisfault.None})
	dir := t.TempDir()
	out := filepath.Join(dir, "filter.txt")
	const previous = "previous filter\n"
	run := func(extra ...string) (int, string) {
		t.Helper()
		args := append([]string{"--irr", "whois://" + srv.Addr()}, fastFlags()...)
		args = append(append(args, extra...), "prefix-list", "--format", "bird", "--output", out, "AS-CUST")
		code, _, stderr := remoteRun(t, args...)
		return code, stderr
	}
	for _, tc := range []struct {
		flags []string
		code  int
	}{
		{[]string{"--max-reply", "32"}, ExitUnavailable},
		{[]string{"--max-reply", "1KiB"}, ExitOK},
		{nil, ExitOK},
		{[]string{"--max-reply", "0"}, ExitUsage},
		{[]string{"--max-reply", "12XB"}, ExitUsage},
	} {
		if err := os.WriteFile(out, []byte(previous), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stderr := run(tc.flags...)
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.flags, code, tc.code, stderr)
			continue
		}
		if code == ExitOK {
			if !strings.Contains(string(got), "192.0.2.0/24") {
				t.Errorf("%v: filter not written: %q", tc.flags, got)
			}
			continue
		}
		if string(got) != previous {
			t.Errorf("%v: exit %d but the output changed: %q", tc.flags, code, got)
		}
		if code == ExitUnavailable && (!strings.Contains(stderr, "exceeds the limit of 32") || !strings.Contains(stderr, srv.Addr())) {
			t.Errorf("%v: stderr does not name the bound and the server: %s", tc.flags, stderr)
		}
	}
}
