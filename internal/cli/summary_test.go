package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/whoisfault"
)

// summaryDoc is the shape of --summary-json as a pipeline reads it.
type summaryDoc struct {
	Status   string   `json:"status"`
	ExitCode int      `json:"exit_code"`
	Command  string   `json:"command"`
	Args     []string `json:"args"`
	Objects  []string `json:"objects"`
	Family   int      `json:"family"`
	Entries  *int     `json:"entries"`
	IRR      struct {
		Sources []string   `json:"sources"`
		Servers []string   `json:"servers"`
		Files   []string   `json:"files"`
		Stale   []staleDoc `json:"stale"`
	} `json:"irr"`
	RPKI *struct {
		Policy         string   `json:"policy"`
		Source         string   `json:"source"`
		VRPs           int      `json:"vrps"`
		DroppedInvalid int      `json:"dropped_invalid"`
		ROAAdded       int      `json:"roa_added"`
		DroppedOrigins []string `json:"dropped_origins"`
	} `json:"rpki"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
}

// staleDoc is one stale cache use in the summary (irrcache.StaleUse).
type staleDoc struct {
	Query    string `json:"query"`
	StoredAt string `json:"stored_at"`
	Age      string `json:"age"`
	Cause    string `json:"cause"`
}

func readSummary(t *testing.T, path string) summaryDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("summary not written: %v", err)
	}
	var d summaryDoc
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("summary: %v\n%s", err, b)
	}
	return d
}

func TestSummaryJSON(t *testing.T) {
	dir := t.TempDir()
	sj := func(name string) string { return filepath.Join(dir, name+".json") }

	// prefix-list, ok, with RPKI: 2 of 4 IPv4 route objects are invalid.
	code, _, errs := runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "prefix-list", "--format", "ios", "--summary-json", sj("pl"), "AS-RPKI")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	d := readSummary(t, sj("pl"))
	if d.Status != "ok" || d.ExitCode != 0 || d.Command != "prefix-list" || !slices.Equal(d.Objects, []string{"AS-RPKI"}) ||
		d.Family != 4 || d.Entries == nil || *d.Entries != 2 || d.Error != "" ||
		!slices.Equal(d.IRR.Files, []string{rpkiDB}) || !slices.Equal(d.IRR.Sources, []string{"RPKITEST", "ALT"}) || len(d.IRR.Stale) != 0 ||
		d.RPKI == nil || d.RPKI.Policy != "drop-invalid" || d.RPKI.VRPs != 5 || d.RPKI.DroppedInvalid != 2 || d.RPKI.ROAAdded != 0 ||
		!slices.Equal(d.Warnings, []string{"dropped RPKI-invalid 192.0.2.0/26 origin AS64500", "dropped RPKI-invalid 198.51.100.0/24 origin AS64501"}) {
		t.Errorf("prefix-list summary: %+v rpki %+v", d, d.RPKI)
	}

	// roa-add, IPv6: 2001:db8:100:8000::/49 is dropped; of the two ROA additions the
	// /40-48 also covers a route object, so one entry (2001:db8:300::/48) is ROA-only.
	code, _, errs = runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "prefix-list", "-6", "--format", "ios", "--rpki-policy", "roa-add", "--summary-json", sj("pl6"), "AS-RPKI")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if d := readSummary(t, sj("pl6")); d.Family != 6 || d.RPKI == nil || d.RPKI.Policy != "roa-add" || d.RPKI.DroppedInvalid != 1 || d.RPKI.ROAAdded != 1 {
		t.Errorf("roa-add summary: %+v rpki %+v", d, d.RPKI)
	}

	// Without --rpki the rpki member is null.
	code, _, _ = runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "--summary-json", sj("norpki"), "AS-RPKI")
	if d := readSummary(t, sj("norpki")); code != 0 || d.RPKI != nil || *d.Entries != 4 {
		t.Errorf("no rpki: exit %d %+v", code, d)
	}

	// prefix-list, error: unknown object, exit 2; the summary says why.
	code, out, _ := runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "AS-NOPE", "--summary-json", sj("err"))
	d = readSummary(t, sj("err"))
	if code != 2 || out != "" || d.Status != "error" || d.ExitCode != 2 || d.Entries != nil || !strings.Contains(d.Error, "AS-NOPE") {
		t.Errorf("error summary: exit %d %+v", code, d)
	}

	// as-path with RPKI.
	code, _, _ = runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "as-path", "--keep-private", "--format", "bird", "--summary-json", sj("ap"), "AS-RPKI")
	d = readSummary(t, sj("ap"))
	if code != 0 || d.Command != "as-path" || *d.Entries != 3 || d.RPKI == nil || !slices.Equal(d.RPKI.DroppedOrigins, []string{"AS64501"}) ||
		d.RPKI.DroppedInvalid != 1 || !slices.Contains(d.Warnings, "dropped origin AS64501: all 1 route objects are RPKI-invalid") {
		t.Errorf("as-path summary: exit %d %+v %+v", code, d, d.RPKI)
	}

	// bgpq4 with RPKI, and a bgpq4 failure whose message is bgpq4's stderr.
	// objects and entries are filled (issue 12 item 15): entries counted here from the
	// printed lines.
	code, bqOut, _ := runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "bgpq4", "--summary-json", sj("bq"), "--rpki-policy", "roa-add", "-l", "NN", "AS-RPKI")
	d = readSummary(t, sj("bq"))
	if code != 0 || d.Command != "bgpq4" || !slices.Equal(d.Args, []string{"-l", "NN", "AS-RPKI"}) || d.RPKI == nil ||
		d.RPKI.DroppedInvalid != 2 || d.RPKI.ROAAdded != 1 || !slices.Equal(d.Objects, []string{"AS-RPKI"}) ||
		d.Entries == nil || *d.Entries != strings.Count(bqOut, " permit ") || *d.Entries == 0 {
		t.Errorf("bgpq4 summary: exit %d %+v %+v\n%s", code, d, d.RPKI, bqOut)
	}
	// An as-path run counts origins: as many as expand lists.
	_, asns, _ := runRPKICLI(t, "--quiet", "expand", "AS-RPKI")
	code, bqOut, _ = runRPKICLI(t, "--quiet", "bgpq4", "--summary-json", sj("bqas"), "-p", "-f", "64496", "-l", "NN", "AS-RPKI")
	if d = readSummary(t, sj("bqas")); code != 0 || d.Entries == nil || *d.Entries == 0 || *d.Entries != strings.Count(asns, "\n") {
		t.Errorf("bgpq4 -f summary: exit %d %+v\n%s\nexpand:\n%s", code, d, bqOut, asns)
	}
	code, _, _ = runRPKICLI(t, "bgpq4", "--summary-json", sj("bqerr"), "-J", "-A", "AS-RPKI")
	d = readSummary(t, sj("bqerr"))
	if code != 255 || d.Status != "error" || d.ExitCode != 255 || !strings.Contains(d.Error, "aggregation (-A) does not work") {
		t.Errorf("bgpq4 error summary: exit %d %+v", code, d)
	}

	// The summary cannot be written: a successful run fails with exit 1.
	code, _, errs = runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "--summary-json", filepath.Join(dir, "no/such/dir.json"), "AS-RPKI")
	if code != 1 || !strings.Contains(errs, "--summary-json") {
		t.Errorf("unwritable summary: exit %d %s", code, errs)
	}
}

// TestSummaryStale: when every IRR server fails and --stale-on-failure serves the
// cache, the summary lists the stale answers and warns; a run without the stale
// fallback fails with exit 3 and the summary says so.
func TestSummaryStale(t *testing.T) {
	good := whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	cache := t.TempDir()
	dir := t.TempDir()
	code, _, stderr := remoteRun(t, append(append([]string{"--irr", "whois://" + good.Addr(), "--cache-dir", cache, "--cache-ttl", "0"}, fastFlags()...),
		"prefix-list", "--format", "junos", "--summary-json", filepath.Join(dir, "fresh.json"), "AS-CUST")...)
	if code != 0 {
		t.Fatalf("caching run: exit %d: %s", code, stderr)
	}
	fresh := readSummary(t, filepath.Join(dir, "fresh.json"))
	if fresh.Status != "ok" || len(fresh.IRR.Stale) != 0 || !slices.Equal(fresh.IRR.Servers, []string{"whois://" + good.Addr()}) {
		t.Errorf("fresh summary: %+v", fresh)
	}
	// The same server, now down: the cache is keyed by the server, so only its own
	// answers may be served stale.
	good.Close()
	dead := "whois://" + good.Addr()
	for _, cmd := range [][]string{
		{"prefix-list", "--format", "junos", "AS-CUST"},
		{"as-path", "--format", "junos", "AS-CUST"},
	} {
		path := filepath.Join(dir, cmd[0]+".json")
		code, _, stderr = remoteRun(t, append(append(append([]string{"--irr", dead, "--cache-dir", cache, "--cache-ttl", "0", "--stale-on-failure", "24h"}, fastFlags()...),
			cmd...), "--summary-json", path)...)
		d := readSummary(t, path)
		if code != 0 || !strings.Contains(stderr, "STALE IRR DATA") {
			t.Fatalf("%s stale run: exit %d: %s", cmd[0], code, stderr)
		}
		// A distinct status a pipeline cannot miss (issue 12 item 15); exit 0.
		if d.Status != "stale" || d.ExitCode != 0 || len(d.IRR.Stale) == 0 || d.IRR.Stale[0].Query == "" || d.IRR.Stale[0].Cause == "" ||
			!slices.ContainsFunc(d.Warnings, func(w string) bool { return strings.HasPrefix(w, "STALE IRR DATA") }) {
			t.Errorf("%s stale summary: %+v", cmd[0], d)
		}
	}
	path := filepath.Join(dir, "fail.json")
	code, _, _ = remoteRun(t, append(append([]string{"--irr", dead, "--cache-dir", cache, "--cache-ttl", "0"}, fastFlags()...),
		"prefix-list", "--format", "junos", "--summary-json", path, "AS-CUST")...)
	d := readSummary(t, path)
	if code != ExitUnavailable || d.Status != "error" || d.ExitCode != ExitUnavailable || !strings.Contains(d.Error, "every IRR server failed") {
		t.Errorf("failed run: exit %d, summary %+v", code, d)
	}
	// bgpq4 -h: a run against the good server fills the cache with its "!a" answer,
	// then the dead server's run is served stale and says so in the summary.
	bq := func(host, path string) (int, string, summaryDoc) {
		code, out, stderr := remoteRun(t, append(append([]string{"--cache-dir", cache, "--cache-ttl", "0", "--stale-on-failure", "24h"}, fastFlags()...),
			"bgpq4", "--summary-json", path, "-h", host, "-J", "AS-CUST")...)
		d := readSummary(t, path)
		if code != 0 || d.ExitCode != 0 || !slices.Equal(d.IRR.Servers, []string{"whois://" + host}) {
			t.Fatalf("bgpq4 -h %s: exit %d, summary %+v: %s", host, code, d, stderr)
		}
		return code, out, d
	}
	good = whoisfault.Start(t, remoteData(), whoisfault.Fault{})
	_, want, d := bq(good.Addr(), filepath.Join(dir, "bgpq4-fresh.json"))
	if len(d.IRR.Stale) != 0 || !strings.Contains(want, "198.51.100.0/24") {
		t.Errorf("fresh bgpq4: %+v\n%s", d, want)
	}
	good.Close()
	_, got, d := bq(good.Addr(), filepath.Join(dir, "bgpq4-stale.json"))
	isA := func(u staleDoc) bool { return strings.HasPrefix(u.Query, "!a4AS-CUST") }
	if got != want || d.Status != "stale" || !slices.ContainsFunc(d.IRR.Stale, isA) {
		t.Errorf("stale bgpq4: %+v\n%s", d, got)
	}
}
