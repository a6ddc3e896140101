package render

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// aspaTable builds an RPKI table with the given ASPAs (the same providers for both
// address families).
func aspaTable(t *testing.T, m map[routing.ASN][]routing.ASN) *rpki.Table {
	t.Helper()
	b := rpki.NewBuilder(rpki.Options{})
	for c, p := range m {
		b.AddASPA(c, p, p, 0)
	}
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// writeASPA renders the ASPA data of tb for format into buf.
func writeASPA(buf *bytes.Buffer, tb *rpki.Table, format string, opt ASPAOptions) error {
	r, err := New(format, Options{})
	if err != nil {
		return err
	}
	out, err := r.ASPA(tb, opt)
	if err != nil {
		return err
	}
	buf.Write(out)
	return nil
}

func renderTable(t *testing.T) *rpki.Table {
	return aspaTable(t, map[routing.ASN][]routing.ASN{
		64500: {64501, 64510},
		64501: {64510, 64511},
		64502: {0},
		64503: {64500},
	})
}

// TestWriteBIRDASPA pins the BIRD ASPA table. UNVERIFIED: the expected text follows
// BIRD 2.16's documentation ("aspa table", "route aspa N providers …" / "transit")
// but no BIRD has parsed it yet: the installed BIRD is older than 2.16 and has no
// ASPA (TestBIRDParsesASPA parses it once a BIRD >= 2.16 is installed).
func TestWriteBIRDASPA(t *testing.T) {
	tb := renderTable(t)
	var buf bytes.Buffer
	if err := writeASPA(&buf, tb, "bird", ASPAOptions{Name: "aspa_cust", Cone: []routing.ASN{64500, 64502, 64504}}); err != nil {
		t.Fatal(err)
	}
	want := `# ASPA table for BIRD >= 2.16: 2 ASPAs
# from customers: if aspa_check(aspa_cust, bgp_path, true) = ASPA_INVALID then reject;
# from providers: if aspa_check(aspa_cust, bgp_path, false) = ASPA_INVALID then reject;
aspa table aspa_cust;

protocol static aspa_cust_static {
	aspa { table aspa_cust; };
	route aspa 64500 providers 64501, 64510;
	route aspa 64502 transit;
}
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
	if err := writeASPA(&buf, tb, "bird", ASPAOptions{Name: "x; protocol"}); err == nil {
		t.Error("invalid name accepted")
	}
}

// frrRegexp turns an FRR/IOS-XR AS-path regex with '_' delimiters into a Go regexp
// over a space-separated path.
func frrRegexp(re string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(re, "_", "(?:^|$| )"))
}

// The AS-path filter rejects exactly the cone paths that upstream ASPA verification
// calls invalid (differential test over random paths inside the cone).
func TestConeFilterMatchesVerification(t *testing.T) {
	tb := renderTable(t)
	cone := []routing.ASN{64500, 64501, 64502, 64503, 64504}
	var buf bytes.Buffer
	if err := writeASPA(&buf, tb, "frr", ASPAOptions{Name: "CUST-ASPA", Cone: cone}); err != nil {
		t.Fatal(err)
	}
	var denies []*regexp.Regexp
	for _, l := range strings.Split(buf.String(), "\n") {
		if f := strings.Fields(l); len(f) == 8 && f[6] == "deny" {
			denies = append(denies, frrRegexp(f[7]))
		}
	}
	if len(denies) != 4 { // 64500, 64501, 64502, 64503 have ASPAs
		t.Fatalf("deny lines = %d:\n%s", len(denies), buf.String())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		n := 1 + rng.IntN(6)
		var parts []string
		path := make(rpki.ASPath, 0, n)
		for range n {
			a := cone[rng.IntN(len(cone))]
			path = append(path, rpki.PathSegment{ASNs: []routing.ASN{a}})
			parts = append(parts, itoa(a))
		}
		text := strings.Join(parts, " ")
		rejected := false
		for _, re := range denies {
			if re.MatchString(text) {
				rejected = true
			}
		}
		invalid := tb.VerifyPath(path, rpki.VerifyOptions{}).State == rpki.ASPAInvalid
		if rejected != invalid {
			t.Fatalf("path %q: filter rejects=%v, verification invalid=%v", text, rejected, invalid)
		}
	}
}

func itoa(a routing.ASN) string { return asnJoin("", []routing.ASN{a}) }

func TestWriteASPAPathFilterFormats(t *testing.T) {
	tb := renderTable(t)
	opt := ASPAOptions{Name: "CUST", Cone: []routing.ASN{64500, 64501, 64503}}
	cases := map[string][]string{
		"frr": {"bgp as-path access-list CUST seq 5 deny _(64503)_64500_", "bgp as-path access-list CUST seq 10 deny _(64500|64503)_64501_",
			"bgp as-path access-list CUST seq 15 deny _(64501)_64503_", "bgp as-path access-list CUST seq 20 permit .*"},
		"junos": {`as-path CUST-1 ".* (64503) 64500 .*";`, "from as-path CUST-3;", "then reject;"},
		"iosxr": {"as-path-set CUST", "  ios-regex '_(64503)_64500_',", "  ios-regex '_(64501)_64503_'\nend-set", "if as-path in CUST then"},
	}
	for format, wants := range cases {
		var buf bytes.Buffer
		if err := writeASPA(&buf, tb, format, opt); err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", format, w, buf.String())
			}
		}
	}
	if err := writeASPA(&bytes.Buffer{}, tb, "frr", ASPAOptions{Name: "A B", Cone: []routing.ASN{1}}); err == nil {
		t.Error("bad name accepted")
	}
	if err := writeASPA(&bytes.Buffer{}, tb, "frr", ASPAOptions{Name: "A"}); err == nil {
		t.Error("empty cone accepted")
	}
}

// FRR's bgpd parses the generated as-path access-list (dry run, -C).
func TestFRRParsesASPAFilter(t *testing.T) {
	bgpd := peer.FRRBgpd(t)
	tb := renderTable(t)
	var buf bytes.Buffer
	buf.WriteString("frr defaults traditional\nhostname aspa-test\n!\n")
	if err := writeASPA(&buf, tb, "frr", ASPAOptions{Name: "CUST-ASPA", Cone: []routing.ASN{64500, 64501, 64502, 64503}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "frr.conf")
	if err := os.WriteFile(conf, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bgpd, "-C", "-S", "-Z", "-f", conf, "-i", filepath.Join(dir, "pid"),
		"--vty_socket", dir, "-P", "0", "-p", "0").CombinedOutput()
	if err != nil || strings.Contains(string(out), "Config Failed") || strings.Contains(string(out), "No such command") {
		t.Fatalf("bgpd -C: %v\n%s\n--- config:\n%s", err, out, buf.String())
	}
	// The check can fail: a broken line is reported.
	bad := strings.Replace(buf.String(), " deny ", " denyx ", 1)
	os.WriteFile(conf, []byte(bad), 0o644)
	out, _ = exec.Command(bgpd, "-C", "-S", "-Z", "-f", conf, "-i", filepath.Join(dir, "pid"),
		"--vty_socket", dir, "-P", "0", "-p", "0").CombinedOutput()
	if !strings.Contains(string(out), "No such command") {
		t.Fatalf("bgpd -C did not reject a broken line:\n%s", out)
	}
}

// TestASPAPerAFI: per-AFI ASPA data is rendered per address family: with AFI 0 an
// ASPA whose IPv4 and IPv6 provider lists differ is refused (the union would permit
// the IPv4-only provider for IPv6), with AFI 4 or 6 that family's list is used.
func TestASPAPerAFI(t *testing.T) {
	b := rpki.NewBuilder(rpki.Options{})
	b.AddASPA(64500, []routing.ASN{64501}, []routing.ASN{64502}, 0)
	tb, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"bird", "frr"} {
		var buf bytes.Buffer
		opt := ASPAOptions{Name: "cust", Cone: []routing.ASN{64500, 64501, 64502}}
		if err := writeASPA(&buf, tb, format, opt); err == nil || !strings.Contains(err.Error(), "AS64500") {
			t.Errorf("%s with AFI 0: err = %v, want a refusal naming AS64500", format, err)
		}
		buf.Reset()
		opt.AFI = 6
		if err := writeASPA(&buf, tb, format, opt); err != nil {
			t.Fatalf("%s AFI 6: %v", format, err)
		}
		if format == "bird" && !strings.Contains(buf.String(), "route aspa 64500 providers 64502;") {
			t.Errorf("bird AFI 6:\n%s", buf.String())
		}
		if format == "frr" && !strings.Contains(buf.String(), "deny _(64501)_64500_") {
			t.Errorf("frr AFI 6 does not forbid the IPv4-only provider:\n%s", buf.String())
		}
	}
}

// TestBIRDParsesASPA parses the rendered ASPA table with "bird -p" when the
// installed BIRD has ASPA (2.16 or later). With an older BIRD the BIRD ASPA output
// stays UNVERIFIED and the test says so (it is skipped: an older BIRD is present,
// not missing, and cannot check this).
func TestBIRDParsesASPA(t *testing.T) {
	bird := peer.Require(t, "bird")
	out, _ := exec.Command(bird, "--version").CombinedOutput()
	m := regexp.MustCompile(`BIRD version (\d+)\.(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("bird --version: %q", out)
	}
	if major, minor := atoi(m[1]), atoi(m[2]); major < 2 || major == 2 && minor < 16 {
		t.Skipf("UNVERIFIED: BIRD ASPA output is not parsed by any BIRD: the installed %s is older than 2.16", strings.TrimSpace(m[0]))
	}
	var buf bytes.Buffer
	if err := writeASPA(&buf, renderTable(t), "bird", ASPAOptions{Name: "aspa_cust"}); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(conf, []byte("router id 192.0.2.1;\n"+buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bird, "-p", "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("bird -p refused the ASPA table: %v\n%s\n%s", err, b, buf.String())
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
