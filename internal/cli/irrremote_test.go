package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// remoteData is a small registry in documentation space served by the fault server.
func remoteData() *whoisfault.Data {
	return &whoisfault.Data{
		Sources: []string{"RIPE", "RADB"},
		Members: map[string][]string{
			"AS-CUST": {"AS-SUB", "AS64496", "AS64497"},
			"AS-SUB":  {"AS64498", "AS65536", "AS65552"},
		},
		Recursive: map[string][]string{
			"AS-CUST": {"AS64496", "AS64497", "AS64498", "AS65536", "AS65552"},
			"AS-SUB":  {"AS64498", "AS65536", "AS65552"},
		},
		A4: map[string][]string{
			"AS-CUST": {"192.0.2.0/24", "192.0.2.0/25", "192.0.2.128/25", "198.51.100.0/24", "203.0.113.0/24"},
		},
		Routes4: map[uint32][]string{
			64496: {"192.0.2.0/24", "192.0.2.0/25"},
			64497: {"198.51.100.0/24"},
			65536: {"203.0.113.0/24"},
			65552: {"192.0.2.128/25"}, // reserved, but not filtered by bgpq4
		},
		Routes6: map[uint32][]string{64496: {"2001:db8::/32"}},
	}
}

// remoteRun runs the bgpfilter app in-process. The remote flags are added when
// NewApp does not carry them yet.
func remoteRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := NewApp(&out, &errb)
	have := false
	for _, f := range app.Flags {
		for _, n := range f.Names() {
			if n == "cache-dir" {
				have = true
			}
		}
	}
	if !have {
		app.Flags = append(app.Flags, remoteFlags()...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.RunContext(ctx, append([]string{"bgpfilter"}, args...))
	code := ExitOK
	if err != nil {
		code = ExitUsage
		if ec, ok := err.(interface{ ExitCode() int }); ok {
			code = ec.ExitCode()
		}
		fmt.Fprintln(&errb, "bgpfilter:", err)
	}
	if strings.Contains(errb.String(), "whois client not available yet") {
		t.Fatalf("openIRR does not use openRemote for whois:// specs yet (wire internal/cli/irrremote.go): %s", errb.String())
	}
	return code, out.String(), errb.String()
}

func fastFlags() []string {
	return []string{"--timeout", "300ms", "--connect-timeout", "300ms"}
}

// TestRemoteFaultsLeaveOutputUnchanged runs prefix-list against the fault server for
// every fault: exit 3 within the timeout, a message naming server and query, and the
// previous output file untouched.
func TestRemoteFaultsLeaveOutputUnchanged(t *testing.T) {
	var faults []whoisfault.Fault
	faults = append(faults, whoisfault.Faults("!gas65552")...)
	for _, f := range whoisfault.Faults("!iAS-SUB") {
		if f.Kind != whoisfault.GarbageData && f.Kind != whoisfault.WrongFamily && f.Query != "!n" && f.Query != "!s-lc" {
			faults = append(faults, f)
		}
	}
	var lines []string
	for _, f := range faults {
		t.Run(f.String(), func(t *testing.T) {
			srv := whoisfault.Start(t, remoteData(), f)
			dir := t.TempDir()
			outFile := filepath.Join(dir, "filter.txt")
			const previous = "previous filter\n"
			if err := os.WriteFile(outFile, []byte(previous), 0o644); err != nil {
				t.Fatal(err)
			}
			cache := t.TempDir()
			start := time.Now()
			args := append([]string{"--irr", "whois://" + srv.Addr(), "--cache-dir", cache}, fastFlags()...)
			args = append(args, "prefix-list", "--format", "junos", "--output", outFile, "AS-CUST")
			code, _, stderr := remoteRun(t, args...)
			el := time.Since(start)
			if code != ExitUnavailable {
				t.Fatalf("exit %d, want 3; stderr: %s", code, stderr)
			}
			if el > 3*time.Second {
				t.Errorf("took %s", el)
			}
			if !strings.Contains(stderr, srv.Addr()) {
				t.Errorf("stderr does not name the server: %s", stderr)
			}
			b, err := os.ReadFile(outFile)
			if err != nil || string(b) != previous {
				t.Fatalf("output file changed: %q, %v", b, err)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("stray files in the output directory: %v", ents)
			}
			// The bgpq4 drop-in against the same fault (-L forces the "!i" + "!g"
			// queries the faults sit on; bgpq4 drops the documentation ASNs on that
			// path but asks for AS65552): non-zero, and nothing on stdout.
			bargs := append(fastFlags(), "bgpq4", "-h", srv.Addr(), "-L", "5", "-J", "AS-CUST")
			bcode, bout, berr := remoteRun(t, bargs...)
			if bcode == 0 || bout != "" {
				t.Errorf("bgpq4 -h: exit %d, stdout %q (stderr %s)", bcode, bout, berr)
			}
			// Nothing the faulty server said about the failed query reached the
			// cache: with every server down, --stale-on-failure has no complete
			// answer to serve and the run fails too.
			srv.Close() // the same server, now down (the cache is keyed by the server)
			sargs := append([]string{"--irr", "whois://" + srv.Addr(), "--cache-dir", cache, "--cache-ttl", "0", "--stale-on-failure", "24h"}, fastFlags()...)
			sargs = append(sargs, "prefix-list", "--format", "junos", "AS-CUST")
			if scode, sout, serr := remoteRun(t, sargs...); scode != ExitUnavailable {
				t.Errorf("stale run on the cache of the failed run: exit %d, want 3; out %q; stderr %s", scode, sout, serr)
			}
			lines = append(lines, fmt.Sprintf("%-28s prefix-list exit %d after %4dms; bgpq4 -h exit %d, empty stdout", f, code, el.Milliseconds(), bcode))
		})
	}
	for _, l := range lines {
		t.Log(l)
	}
	t.Logf("%d faults injected: every prefix-list run exited 3 with its output file unchanged, every bgpq4 -h run failed with nothing on stdout", len(lines))
}

// TestRemoteFailoverAndStale: a failing first server is skipped with a warning and the
// second one answers; with every server down, --stale-on-failure serves the cache and
// says so; without it the run fails with exit 3.
func TestRemoteFailoverAndStale(t *testing.T) {
	good := whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	code, want, stderr := remoteRun(t, append(append([]string{"--irr", "whois://" + good.Addr()}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != 0 || !strings.Contains(want, "198.51.100.0/24") || !strings.Contains(want, "203.0.113.0/24") {
		t.Fatalf("healthy run: exit %d, out %q, stderr %s", code, want, stderr)
	}

	bad := whoisfault.Start(t, remoteData(), whoisfault.Fault{Kind: whoisfault.Truncate, Query: "!gas64497"})
	code, got, stderr := remoteRun(t, append(append([]string{"--irr", "whois://" + bad.Addr(), "--irr", "whois://" + good.Addr()}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != 0 || got != want {
		t.Fatalf("failover run: exit %d, out %q, want %q; stderr %s", code, got, want, stderr)
	}
	if !strings.Contains(stderr, "IRR server failed") || !strings.Contains(stderr, bad.Addr()) {
		t.Errorf("no failover warning naming %s: %s", bad.Addr(), stderr)
	}

	cache := t.TempDir()
	code, _, stderr = remoteRun(t, append(append([]string{"--irr", "whois://" + good.Addr(), "--cache-dir", cache, "--cache-ttl", "0"}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != 0 {
		t.Fatalf("caching run: exit %d: %s", code, stderr)
	}
	// The same server, now down (the cache is keyed by the server).
	good.Close()
	dead := "whois://" + good.Addr()
	code, got, stderr = remoteRun(t, append(append([]string{"--irr", dead, "--cache-dir", cache, "--cache-ttl", "0", "--stale-on-failure", "24h"}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != 0 || got != want || !strings.Contains(stderr, "STALE IRR DATA") {
		t.Fatalf("stale run: exit %d, out %q, stderr %s", code, got, stderr)
	}
	code, _, stderr = remoteRun(t, append(append([]string{"--irr", dead, "--cache-dir", cache, "--cache-ttl", "0"}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != ExitUnavailable || !strings.Contains(stderr, "every IRR server failed") {
		t.Fatalf("run without --stale-on-failure: exit %d, stderr %s", code, stderr)
	}
	code, _, stderr = remoteRun(t, append([]string{"--irr", dead, "--stale-on-failure", "1h"}, "prefix-list", "--format", "junos", "AS-CUST")...)
	if code != ExitUsage || !strings.Contains(stderr, "needs --cache-dir") {
		t.Fatalf("--stale-on-failure without --cache-dir: exit %d, %s", code, stderr)
	}
}

// TestRemoteSources: --sources is checked against the server (exit 2 when refused) and
// used as the default list of every query.
func TestRemoteSources(t *testing.T) {
	srv := whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	code, _, stderr := remoteRun(t, append(append([]string{"--irr", "whois://" + srv.Addr(), "--sources", "RADB,NOPE"}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != ExitData || !strings.Contains(stderr, "--sources") {
		t.Fatalf("unknown source: exit %d, %s", code, stderr)
	}
	code, _, stderr = remoteRun(t, append(append([]string{"--irr", "whois://" + srv.Addr(), "--sources", "radb,RIPE"}, fastFlags()...),
		"prefix-list", "--format", "junos", "AS-CUST")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var qs []string
	for _, q := range srv.Queries() {
		if q != "!v" { // the whois client's reply-order checks
			qs = append(qs, q)
		}
	}
	saw := strings.Join(qs, "\n")
	if !strings.Contains(saw, "!sRADB,RIPE\n!iAS-CUST") {
		t.Errorf("queries were not sent with the --sources list:\n%s", saw)
	}
}
