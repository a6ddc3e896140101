package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/bgpq4"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// The IRR ∩ RPKI fixture of package policy: AS-RPKI expands to AS64500 (192.0.2.0/25
// valid, 192.0.2.0/26 invalid: longer than maxLength; 2001:db8:100::/48 valid,
// 2001:db8:100:8000::/49 invalid: longer than maxLength),
// AS64501 (198.51.100.0/24 invalid: the ROA names AS64510), AS64502 (no route
// objects; ROAs 203.0.113.0/24-25 and 2001:db8:300::/48) and AS64503 (not-found
// routes, source ALT).
const (
	rpkiDB   = "../../policy/testdata/rpki.db"
	rpkiVRPs = "../../policy/testdata/rpki-vrps.json"
)

// runRPKICLI runs bgpfilter with --irr rpkiDB and the given arguments.
func runRPKICLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"bgpfilter", "--irr", rpkiDB}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPrefixListRPKI(t *testing.T) {
	all := "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/25\nip prefix-list NN permit 192.0.2.0/26\n" +
		"ip prefix-list NN permit 192.0.2.128/25\nip prefix-list NN permit 198.51.100.0/24\n"
	valid := "no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/25\nip prefix-list NN permit 192.0.2.128/25\n"
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"no rpki", []string{"prefix-list", "-l", "NN", "--format", "ios", "AS-RPKI"}, 0, all, nil},
		{"rpki defaults to drop-invalid", []string{"--rpki", rpkiVRPs, "prefix-list", "-l", "NN", "--format", "ios", "AS-RPKI"}, 0, valid,
			[]string{"dropped RPKI-invalid 192.0.2.0/26 origin AS64500", "dropped RPKI-invalid 198.51.100.0/24 origin AS64501"}},
		{"explicit ignore", []string{"--rpki", rpkiVRPs, "prefix-list", "-l", "NN", "--format", "ios", "--rpki-policy", "ignore", "AS-RPKI"}, 0, all, nil},
		// The ROA 203.0.113.0/24-25 of AS64502 permits /24 to /25; the range implies
		// lossless aggregation, which folds the two /25s into one line.
		{"roa-add up to maxLength", []string{"--rpki", rpkiVRPs, "prefix-list", "-l", "NN", "--format", "ios", "AS-RPKI", "--rpki-policy", "roa-add"}, 0,
			"no ip prefix-list NN\nip prefix-list NN permit 192.0.2.0/24 ge 25 le 25\nip prefix-list NN permit 203.0.113.0/24 le 25\n", nil},
		{"explain", []string{"--quiet", "--rpki", rpkiVRPs, "prefix-list", "-l", "NN", "--format", "ios", "AS-RPKI", "--explain"}, 0, valid,
			[]string{"# warning: dropped RPKI-invalid 192.0.2.0/26 origin AS64500\n",
				"192.0.2.0/25 exact\n  origins: AS64500\n  sources: RPKITEST\n  via: AS-RPKI > AS64500\n  rpki: valid\n    \"ROA 192.0.2.0/25-25 AS64500 (ripe)\"\n",
				"192.0.2.128/25 exact\n  origins: AS64503\n  sources: ALT\n  via: AS-RPKI > AS-RPKI-SUB > AS64503\n  rpki: not-found\n"}},
		{"policy without rpki", []string{"prefix-list", "--format", "ios", "--rpki-policy", "drop-invalid", "AS-RPKI"}, 1, "", []string{"needs --rpki"}},
		{"bad policy", []string{"--rpki", rpkiVRPs, "prefix-list", "--format", "ios", "--rpki-policy", "drop", "AS-RPKI"}, 1, "", []string{"unknown RPKI policy"}},
		{"missing rpki file", []string{"--rpki", "/nonexistent.json", "prefix-list", "--format", "ios", "AS-RPKI"}, 3, "", []string{"--rpki"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runRPKICLI(t, tc.args...)
			if code != tc.code || out != tc.stdout {
				t.Fatalf("exit %d (want %d), stdout:\n%s--- want:\n%s--- stderr:\n%s", code, tc.code, out, tc.stdout, errs)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errs)
				}
			}
		})
	}
}

// TestPrefixListRPKIJSON: the JSON output carries each entry's provenance: route
// object origin and IRR source, and the ROA with its trust anchor.
func TestPrefixListRPKIJSON(t *testing.T) {
	code, out, errs := runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "prefix-list", "--format", "json", "--rpki-policy", "roa-add", "-6", "AS-RPKI")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Entries []struct {
			Prefix  string
			Min     int
			Max     int
			Origins []uint32
			Sources []string
			ROV     string   `json:"rov"`
			Reasons []string `json:"rov_reasons"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	type row struct {
		prefix, sources, rov, reasons string
		max                           int
	}
	var got []row
	for _, e := range doc.Entries {
		got = append(got, row{e.Prefix, strings.Join(e.Sources, ","), e.ROV, strings.Join(e.Reasons, ","), e.Max})
	}
	want := []row{
		// 2001:db8:100::/48 has a route object (RPKITEST); AS64500's ROA /40-48 adds
		// the /40 up to /48, which covers it.
		{"2001:db8:100::/40", "RPKI,RPKITEST", "valid", "ROA 2001:db8:100::/40-48 AS64500 (ripe)", 48},
		{"2001:db8:200::/48", "ALT", "not-found", "", 48},
		{"2001:db8:300::/48", "RPKI", "valid", "ROA 2001:db8:300::/48-48 AS64502 (apnic)", 48},
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", got, want)
	}
}

func TestASPathRPKI(t *testing.T) {
	code, out, errs := runRPKICLI(t, "as-path", "--keep-private", "--format", "bird", "AS-RPKI")
	if code != 0 || out != "define AS_RPKI = [\n    64500, 64501, 64502, 64503\n];\n" {
		t.Fatalf("no rpki: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runRPKICLI(t, "--rpki", rpkiVRPs, "as-path", "--keep-private", "--format", "bird", "AS-RPKI", "--explain")
	if code != 0 || out != "define AS_RPKI = [\n    64500, 64502, 64503\n];\n" {
		t.Fatalf("rpki: exit %d\n%s%s", code, out, errs)
	}
	for _, s := range []string{"dropped origin AS64501: all 1 route objects are RPKI-invalid",
		"# removed origin AS64501: every route object is RPKI-invalid\n  198.51.100.0/24 AS64501 rpki: invalid\n    \"ROA 198.51.100.0/24-24 AS64510 (arin)\"\n"} {
		if !strings.Contains(errs, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errs)
		}
	}
	// AS64501 is the peer: paths through it stay, it may no longer originate.
	code, out, errs = runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "as-path", "--keep-private", "--format", "frr", "--peer-as", "AS64501", "AS-RPKI")
	if code != 0 || strings.Contains(out, "^64501(_64501)*$") || !strings.Contains(out, "^64501(_[0-9]+)*_(64500|64502|64503)$") {
		t.Errorf("peer AS64501: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runRPKICLI(t, "--quiet", "--rpki", rpkiVRPs, "as-path", "--keep-private", "--format", "bird", "--rpki-policy", "ignore", "AS-RPKI")
	if code != 0 || !strings.Contains(out, "64501") {
		t.Errorf("ignore: exit %d\n%s", code, out)
	}
}

// rpkiVariantDB writes the fixture without the RPKI-invalid route objects (what an
// RPKI-filtering IRRd serves) and, with roa, plus route objects for the ROA prefixes
// that roa-add adds.
func rpkiVariantDB(t *testing.T, roa bool) string {
	t.Helper()
	b, err := os.ReadFile(rpkiDB)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, obj := range strings.Split(string(b), "\n\n") {
		if !strings.Contains(obj, "descr:          invalid") {
			keep = append(keep, strings.TrimSpace(obj))
		}
	}
	if roa {
		keep = append(keep,
			"route: 203.0.113.0/24\norigin: AS64502\nsource: RPKITEST",
			"route6: 2001:db8:100::/40\norigin: AS64500\nsource: RPKITEST",
			"route6: 2001:db8:300::/48\norigin: AS64502\nsource: RPKITEST")
	}
	path := filepath.Join(t.TempDir(), "variant.db")
	if err := os.WriteFile(path, []byte(strings.Join(keep, "\n\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBGPQ4RPKIAgainstBGPQ4: without --rpki `bgpfilter bgpq4` prints the real bgpq4's
// bytes for the fixture; with --rpki it prints what the real bgpq4 prints against a
// server that holds no RPKI-invalid route objects (an RPKI-filtering IRRd), and with
// roa-add what it prints when the ROA prefixes are registered as route objects.
func TestBGPQ4RPKIAgainstBGPQ4(t *testing.T) {
	bin := peer.Require(t, "bgpq4")
	full, _ := serveFile(t, rpkiDB)
	filtered, _ := serveFile(t, rpkiVariantDB(t, false))
	withROAs, _ := serveFile(t, rpkiVariantDB(t, true))
	realBGPQ4 := func(addr string, args []string) string {
		r := peer.BGPQ4(t, bin, addr, []string{"PATH=/usr/bin:/bin"}, args...)
		if r.Code != 0 {
			t.Fatalf("bgpq4 %q: exit %d %s", args, r.Code, r.Stderr)
		}
		return r.Stdout
	}
	ours := func(pre []string, args ...string) string {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append(append([]string{"bgpfilter", "--quiet"}, pre...), args...), &out, &errb)
		if code != 0 {
			t.Fatalf("bgpfilter %q: exit %d: %s", append(pre, args...), code, errb.String())
		}
		return out.String()
	}
	variants := [][]string{
		{"-l", "NN", "AS-RPKI"},
		{"-6", "-l", "NN", "AS-RPKI"},
		{"-A", "-l", "NN", "AS-RPKI"},
		{"-J", "-l", "NN", "AS64500"},
		{"-b", "-6", "-l", "NN", "AS64500", "AS64502"},
		{"-j", "-l", "NN", "AS-RPKI-SUB"},
		{"-E", "-l", "NN", "AS-RPKI"},
	}
	differs := 0
	for _, v := range variants {
		plain := realBGPQ4(full, v)
		if got := ours([]string{"bgpq4", "-h", full}, v...); got != plain {
			t.Errorf("%q without --rpki:\n%s--- bgpq4:\n%s", v, got, plain)
		}
		if got := ours([]string{"--rpki", rpkiVRPs, "bgpq4", "--rpki-policy", "ignore", "-h", full}, v...); got != plain {
			t.Errorf("%q ignore:\n%s--- bgpq4:\n%s", v, got, plain)
		}
		want := realBGPQ4(filtered, v)
		if want != plain {
			differs++
		}
		if got := ours([]string{"--rpki", rpkiVRPs, "bgpq4", "-h", full}, v...); got != want {
			t.Errorf("%q drop-invalid (remote):\n%s--- bgpq4 on the filtered data:\n%s", v, got, want)
		}
		if got := ours([]string{"--irr", rpkiDB, "--rpki", rpkiVRPs, "bgpq4"}, v...); got != want {
			t.Errorf("%q drop-invalid (local):\n%s--- bgpq4 on the filtered data:\n%s", v, got, want)
		}
		want = realBGPQ4(withROAs, v)
		if got := ours([]string{"--rpki", rpkiVRPs, "bgpq4", "--rpki-policy=roa-add", "-h", full}, v...); got != want {
			t.Errorf("%q roa-add:\n%s--- bgpq4 with ROA route objects:\n%s", v, got, want)
		}
	}
	if differs < 4 {
		t.Errorf("only %d variants changed by RPKI; the fixture does not exercise the filter", differs)
	}
	t.Logf("%d bgpq4 variants × {no rpki, ignore, drop-invalid remote, drop-invalid local, roa-add} equal real bgpq4 bytes; %d changed by RPKI", len(variants), differs)
}

func TestBGPQ4RPKIOptions(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"bgpq4", "--rpki-policy"}, 1, "needs a value"},
		{[]string{"bgpq4", "--summary-json=", "AS64500"}, 1, "needs a value"},
		{[]string{"bgpq4", "--rpki-policy", "roa-add", "AS64500"}, 1, "needs --rpki"},
		{[]string{"--rpki", rpkiVRPs, "bgpq4", "--rpki-policy", "nope", "AS64500"}, 1, "unknown RPKI policy"},
	} {
		code, out, errs := runRPKICLI(t, tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errs, tc.stderr) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, out, errs)
		}
	}
	// A bgpfilter option after a bgpq4 flag is bgpq4's (which refuses it).
	code, _, _ := runRPKICLI(t, "bgpq4", "-l", "NN", "--rpki-policy", "ignore", "AS64500")
	if code == 0 {
		t.Error("--rpki-policy after a bgpq4 flag was accepted")
	}
	// BGPFILTER_RPKI_POLICY applies when --rpki-policy is not given, and only with
	// --rpki: without it the run is a plain one.
	t.Setenv("BGPFILTER_RPKI_POLICY", "roa-add")
	if code, out, errs := runRPKICLI(t, "--quiet", "bgpq4", "-l", "NN", "AS-RPKI-SUB"); code != 0 || strings.Contains(out, "203.0.113.0/24") {
		t.Errorf("env policy without --rpki: exit %d\n%s%s", code, out, errs)
	}
	for _, pre := range [][]string{{"bgpq4"}, {"prefix-list", "--format", "ios", "-l", "NN"}} {
		code, out, errs := runRPKICLI(t, append(append([]string{"--quiet", "--rpki", rpkiVRPs}, pre...), "AS-RPKI-SUB")...)
		if code != 0 || !strings.Contains(out, "203.0.113.0/24") {
			t.Errorf("%s with BGPFILTER_RPKI_POLICY=roa-add: exit %d\n%s%s", pre[0], code, out, errs)
		}
		// --rpki-policy overrides the environment.
		code, out, errs = runRPKICLI(t, append(append([]string{"--quiet", "--rpki", rpkiVRPs, pre[0], "--rpki-policy", "ignore"}, pre[1:]...), "AS-RPKI-SUB")...)
		if code != 0 || strings.Contains(out, "203.0.113.0/24") || !strings.Contains(out, "192.0.2.128/25") {
			t.Errorf("%s --rpki-policy ignore: exit %d\n%s%s", pre[0], code, out, errs)
		}
	}
}

func FuzzSplitBGPQ4Args(f *testing.F) {
	f.Add("--rpki-policy\x00roa-add\x00-J\x00AS1")
	f.Add("--summary-json=x.json\x00--rpki-policy=ignore\x00--\x00AS1")
	f.Add("--rpki-policy")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		o, rest, err := splitBGPQ4Args(args)
		if err != nil {
			return
		}
		// rest is the unchanged tail of args, and it starts with no option of ours.
		if len(rest) > len(args) || !slices.Equal(rest, args[len(args)-len(rest):]) {
			t.Fatalf("rest %q is not a tail of %q", rest, args)
		}
		if len(rest) > 0 {
			n, _, _ := strings.Cut(rest[0], "=")
			if n == "--rpki-policy" || n == "--summary-json" {
				t.Fatalf("option left in rest: %q", rest)
			}
		}
		if strings.Contains(s, "--rpki-policy") && len(rest) == len(args) && o.rpkiPolicy != "" {
			t.Fatalf("policy %q from nothing", o.rpkiPolicy)
		}
	})
}

// TestRPKIRealDataBGPQ4EqualsNative builds the prefix list of the largest RIPE as-set
// (AS3326:AS-PEERS-UAE, ~51k ASNs) against the RIPE-NONAUTH routes and the real
// 723k-VRP rpki-client set with drop-invalid, once natively (policy.Options hooks,
// rendered as ios) and once with the bgpq4 engine over an RPKIQuerier (the "!a"
// path): two independent implementations must print the same bytes and drop the same
// route objects, and fewer lines than without RPKI. The data is loaded once.
func TestRPKIRealDataBGPQ4EqualsNative(t *testing.T) {
	peer.SkipShort(t, "real data")
	sets := peer.SharedData(t, "irr/ripe.db.as-set.gz")
	vrps := peer.SharedData(t, "rpki/rpki-client_20250720T093135Z.json.gz")
	dir := filepath.Dir(sets)
	ctx := context.Background()
	ix, _, err := irr.Load(ctx, []string{sets, filepath.Join(dir, "ripe-nonauth.db.route.gz"), filepath.Join(dir, "ripe-nonauth.db.route6.gz")}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := rpki.LoadFile(ctx, vrps, rpki.Options{IgnoreExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	const set = "AS3326:AS-PEERS-UAE"
	h := tb.Hooks(rpki.PolicyDropInvalid)
	f, err := policy.BuildPrefixFilter(ctx, ix, &irr.Resolver{Q: ix}, []string{set}, policy.Options{
		Name: "NN", Family: 4, Validator: h.Validator, DropInvalid: h.DropInvalid})
	if err != nil {
		t.Fatal(err)
	}
	ios, err := render.New("ios", render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	native, err := ios.PrefixList(f)
	if err != nil {
		t.Fatal(err)
	}
	engine := func(q irr.Querier) string {
		var out, errb bytes.Buffer
		if code := bgpq4.Run(ctx, []string{"-l", "NN", set}, nil, q, &out, &errb); code != 0 {
			t.Fatalf("bgpq4: exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	rq := policy.NewRPKIQuerier(ix, h.Validator, h.DropInvalid, h.ROAAdd)
	bq, plain := engine(rq), engine(ix)
	if string(native) != bq {
		t.Errorf("native prefix-list and bgpq4 over RPKIQuerier differ: %d vs %d bytes", len(native), len(bq))
	}
	dropped := 0
	for _, w := range f.Warnings {
		if strings.HasPrefix(w, "dropped RPKI-invalid ") {
			dropped++
		}
	}
	if dropped == 0 || dropped != len(rq.Dropped()) {
		t.Errorf("dropped: native %d, RPKIQuerier %d", dropped, len(rq.Dropped()))
	}
	nl, il := strings.Count(bq, "\n"), strings.Count(plain, "\n")
	if nl >= il {
		t.Errorf("drop-invalid %d lines, ignore %d", nl, il)
	}
	t.Logf("%s IPv4: %d lines without RPKI, %d with drop-invalid (%d invalid route objects dropped); native == bgpq4", set, il, nl, dropped)
}
