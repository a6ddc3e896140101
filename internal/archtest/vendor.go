package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
)

// vendorSyntax are patterns of router configuration text: each needs the syntax
// around a keyword (a brace, a name after it, a line start), so prose that names a
// construct ("a Junos policy-statement with route-filters", "--format
// junos-route-filter") does not match, while any line of a real config does.
var vendorSyntax = []struct {
	vendor string
	re     *regexp.Regexp
}{
	// Junos
	{"junos", regexp.MustCompile(`\bpolicy-statement\s+\S+\s*\{`)},
	{"junos", regexp.MustCompile(`\bpolicy-options\s*\{`)},
	{"junos", regexp.MustCompile(`\b(route-filter-list|prefix-list|community|as-path-group)\s+\S+\s*\{`)},
	{"junos", regexp.MustCompile(`\broute-filter\s+(%[a-z]|[0-9a-fA-F:.]+/\d)`)},
	{"junos", regexp.MustCompile(`\bthen\s+(reject|accept|next\s+term)\s*;`)},
	{"junos", regexp.MustCompile(`\bfrom\s+(as-path|prefix-list|route-filter-list|policy)\s+\S+;`)},
	{"junos", regexp.MustCompile(`\bas-path\s+\S+\s+"`)},
	{"junos", regexp.MustCompile(`\bterm\s+\S+\s*\{`)},
	// IOS-XR RPL
	{"iosxr", regexp.MustCompile(`(?m)^\s*(prefix-set|as-path-set|community-set)\s+\S+\s*$`)},
	{"iosxr", regexp.MustCompile(`(?m)^\s*route-policy\s+\S+`)},
	{"iosxr", regexp.MustCompile(`\bend-(set|policy)\b`)},
	{"iosxr", regexp.MustCompile(`\bios-regex\b`)},
	{"iosxr", regexp.MustCompile(`\bif\s+(as-path|destination)\s+in\b`)},
	// IOS, EOS, FRR
	{"ios/frr", regexp.MustCompile(`\bip(v6)?\s+prefix-list\s+\S`)},
	{"ios/frr", regexp.MustCompile(`\broute-map\s+\S+\s+(permit|deny|in|out)\b`)},
	{"ios/frr", regexp.MustCompile(`\bas-path\s+access-list\s+\S`)},
	{"ios/frr", regexp.MustCompile(`\bneighbor\s+\S+\s+(remote-as|route-map|filter-list|prefix-list|maximum-prefix|activate)\b`)},
	{"ios/frr", regexp.MustCompile(`\bmatch\s+(ip\s+address|ipv6\s+address|as-path|rpki)\s+\S`)},
	{"ios/frr", regexp.MustCompile(`\brouter\s+bgp\s+(\d|%[a-z])`)},
	// BIRD
	{"bird", regexp.MustCompile(`(?m)^\s*define\s+\w+\s*=`)},
	{"bird", regexp.MustCompile(`\bfilter\s+(\w+|%[a-z])\s*\{`)},
	{"bird", regexp.MustCompile(`\bprotocol\s+(bgp|static|rpki|kernel|device|direct)\b`)},
	{"bird", regexp.MustCompile(`\b(roa|aspa)_check\s*\(`)},
	{"bird", regexp.MustCompile(`\bbgp_path\s*(\.|~)`)},
	{"bird", regexp.MustCompile(`\bnet\s*~\s*\[`)},
	{"bird", regexp.MustCompile(`\baspa\s+table\s+(\w+|%[a-z])\s*;`)},
	{"bird", regexp.MustCompile(`\broute\s+aspa\s`)},
	{"bird", regexp.MustCompile(`\b(import|export)\s+(filter|where)\s`)},
	// OpenBGPD
	{"openbgpd", regexp.MustCompile(`\b(prefix-set|as-set|origin-set)\s+\S+\s*\{`)},
	{"openbgpd", regexp.MustCompile(`\b(allow|deny|match)\s+(from|to)\s+(any|ebgp|ibgp|%[a-z]|\d)`)},
}

// VendorText returns the first vendor pattern s matches ("" when none).
func VendorText(s string) string {
	for _, v := range vendorSyntax {
		if m := v.re.FindString(s); m != "" {
			return fmt.Sprintf("%s syntax %q", v.vendor, m)
		}
	}
	return ""
}

// ScanSource reports every string literal of a Go file that holds vendor syntax, as
// "file:line: what".
func ScanSource(filename string, src any) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		if what := VendorText(s); what != "" {
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(lit.Pos()), what))
		}
		return true
	})
	return out, nil
}
