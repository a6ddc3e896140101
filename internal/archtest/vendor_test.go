package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// vendorExempt are the directories whose Go code may hold router text: the templates
// themselves and the byte-exact bgpq4 drop-in, whose printers are bgpq4's.
var vendorExempt = []string{"internal/bgpq4", "templates"}

// TestNoVendorTextInGo: vendor syntax in a string literal of a non-test Go file
// outside the exempt directories fails; it belongs in templates/<vendor>/.
func TestNoVendorTextInGo(t *testing.T) {
	root := peer.RepoRoot(t)
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			for _, e := range vendorExempt {
				if rel == e {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		hits, err := ScanSource(rel, b)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		for _, h := range hits {
			t.Errorf("%s: vendor text in Go; move it to templates/", h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned %d Go files; the repository has more", files)
	}
}

// TestVendorTextPatterns: every vendor's real syntax is caught (lines taken from the
// templates' output and the vendors' documented examples), prose naming the
// constructs is not.
func TestVendorTextPatterns(t *testing.T) {
	caught := []string{
		"policy-statement CUST {\n    term a {\n",
		"    route-filter 192.0.2.0/24 exact;",
		"route-filter %s upto /%d;",
		"then reject;",
		"from as-path CUST-1;",
		"as-path %s-%d \".* (%s) %d .*\";",
		"prefix-set CUST\n  192.0.2.0/24\nend-set\n",
		"route-policy CUST_IN\n  pass\nend-policy",
		"  ios-regex '_64500_'",
		"ip prefix-list CUST seq 5 permit 192.0.2.0/24",
		"ipv6 prefix-list %s permit %s",
		"route-map CUST-IN permit 10",
		"bgp as-path access-list %s seq %d deny %s",
		"ip as-path access-list CUST permit _64500$",
		" neighbor 192.0.2.1 remote-as 64500",
		"router bgp 64496",
		"define CUST = [ 192.0.2.0/24 ];",
		"filter cust_in {\n if net ~ CUST then accept;",
		"protocol bgp cust {",
		"if roa_check(r4, net, bgp_path.last) = ROA_INVALID then reject;",
		"aspa table %s;",
		"\troute aspa %d providers %s;",
		"prefix-set \"CUST\" {",
		"allow from any prefix-set CUST",
		"as-set CUST { 64500 }",
	}
	for _, s := range caught {
		if VendorText(s) == "" {
			t.Errorf("not caught: %q", s)
		}
	}
	prose := []string{
		"prefix-list: no OBJECT given",
		"output format: junos, junos-route-filter, junos-policy, iosxr",
		"junos-policy (policy-statement with route-filters)",
		"bird (BIRD >= 2.16 aspa table), or frr, junos, iosxr (AS-path filter for a customer cone)",
		"the as-path filter for AS-EXAMPLE is empty: it denies everything",
		"as-path: --peer-as is refused",
		"render: %s prefix-lists cannot carry length ranges (%s): use --format junos-route-filter or junos-policy: %w",
		"IRR ∩ RPKI: ignore, drop-invalid (drop RPKI-invalid route objects) or roa-add",
		"route-set range",
		"accept all and as bgp_path bool bytestring case clist default define",
	}
	for _, s := range prose {
		if w := VendorText(s); w != "" {
			t.Errorf("prose caught as %s: %q", w, s)
		}
	}
}

// TestScanSourceFindsLiterals: the scanner reads string literals (interpreted and raw)
// and ignores comments, so a Go file that prints vendor text fails the scan.
func TestScanSourceFindsLiterals(t *testing.T) {
	src := "package x\n\nimport \"fmt\"\n\n// route-map X permit 10 in a comment is fine\n" +
		"func f() {\n\tfmt.Printf(\"ip prefix-list %s permit %s\\n\", 1, 2)\n" +
		"\t_ = `protocol static x {\n}`\n\t_ = \"plain text\"\n}\n"
	hits, err := ScanSource("x.go", src)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || !strings.HasPrefix(hits[0], "x.go:7:") || !strings.HasPrefix(hits[1], "x.go:8:") {
		t.Errorf("hits = %q, want lines 7 and 8", hits)
	}
}
