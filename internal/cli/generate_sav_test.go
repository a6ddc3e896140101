package cli

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// savConfig: cust_s has overlapping route objects (192.0.2.128/25 inside 192.0.2.0/24),
// a /28 route the BGP filter's lengths would refuse but a source check must permit,
// IPv6, and sav.extra_prefixes; its interfaces are on a Junos router, an IOS-XR router
// and a Linux host.
const savConfig = `local_as: 64496
router_id: 192.0.2.1
irr: [%s]
sources: [GEN]
defaults:
  targets: [frr]
  prefix_length: {ipv4: [8, 24], ipv6: [16, 48]}
  bogons:
    except_asns: [64496-64511, 65536-65551]
    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32]
customers:
  - name: cust_s
    asn: 64500
    interfaces:
      - {device: edge1, name: xe-0/0/1.100}
      - {device: edge2, name: Bundle-Ether1.100}
      - {device: host1, name: eth1}
    sav: {mode: %s, extra_prefixes: [203.0.113.0/25]}
  - name: cust_n
    asn: 64501
`

const savRoutes = "route: 192.0.2.0/24\norigin: AS64500\nsource: GEN\n\n" +
	"route: 192.0.2.128/25\norigin: AS64500\nsource: GEN\n\n" +
	"route: 198.51.100.16/28\norigin: AS64500\nsource: GEN\n\n" +
	"route6: 2001:db8:100::/40\norigin: AS64500\nsource: GEN\n\n" +
	"route: 198.51.100.128/25\norigin: AS64501\nsource: GEN\n\n"

// savWant are cust_s's permitted sources: the covered /25 is gone, the /28 is kept.
var savWant = []string{"192.0.2.0/24", "198.51.100.16/28", "203.0.113.0/25", "2001:db8:100::/40"}

func writeSAVConfig(t *testing.T, dir, mode string) (cfg, out string) {
	t.Helper()
	db := filepath.Join(dir, "gen.db")
	if err := os.WriteFile(db, []byte(savRoutes), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "bgpfilter.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(savConfig, db, mode)), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "out")
}

// TestGenerateSAVNftables loads generate's nftables SAV ruleset with Debian's nft -c
// (the real parser and netlink checker) for every mode, and proves the check can fail:
// the same ruleset with overlapping set elements, and with a syntax error, is refused.
func TestGenerateSAVNftables(t *testing.T) {
	nft := peer.Require(t, "nft")
	for _, mode := range []string{"strict", "loose", "acl"} {
		t.Run(mode, func(t *testing.T) {
			cfg, out := writeSAVConfig(t, t.TempDir(), mode)
			if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			p := filepath.Join(out, "cust_s", "nftables-sav.conf")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if o, err := exec.Command(nft, "-c", "-f", p).CombinedOutput(); err != nil {
				t.Fatalf("nft -c -f refused the generated ruleset: %v\n%s\n%s", err, o, b)
			}
			text := string(b)
			for _, w := range savWant {
				if strings.Count(text, w) != 1 {
					t.Errorf("%s appears %d times, want once:\n%s", w, strings.Count(text, w), text)
				}
			}
			if !strings.Contains(text, `iifname "eth1" ip saddr != @cust_s_SAV_V4 counter drop`) || strings.Contains(text, "xe-0/0/1") {
				t.Errorf("chain does not check eth1 only:\n%s", text)
			}
			fib := map[string]string{"strict": "fib saddr . iif oif missing", "loose": "fib saddr oif missing", "acl": ""}[mode]
			if fib != "" && !strings.Contains(text, fib) || fib == "" && strings.Contains(text, "fib") {
				t.Errorf("mode %s: fib rule wrong:\n%s", mode, text)
			}
			if _, err := os.Stat(filepath.Join(out, "cust_n", "nftables-sav.conf")); err == nil {
				t.Error("cust_n has no sav key but got a SAV file")
			}
			for name, broken := range map[string]string{
				"overlap": strings.Replace(text, "192.0.2.0/24,", "192.0.2.0/24, 192.0.2.128/25,", 1),
				"syntax":  strings.Replace(text, "counter drop", "counter dorp", 1),
			} {
				if broken == text {
					t.Fatalf("%s: mutation did not apply", name)
				}
				bp := filepath.Join(t.TempDir(), "broken.nft")
				os.WriteFile(bp, []byte(broken), 0o644)
				if o, err := exec.Command(nft, "-c", "-f", bp).CombinedOutput(); err == nil {
					t.Errorf("nft -c accepted a broken ruleset (%s):\n%s", name, o)
				}
			}
		})
	}
}

// TestGenerateSAVStructure checks the Junos and IOS-XR SAV files generate writes
// (no router here to load them; the goldens in render/testdata/sav hold the syntax):
// braces balance, every filter or ACL an interface references is defined, every
// permitted source appears exactly once, names follow the vendors' rules, and the
// mode selects the uRPF statements.
func TestGenerateSAVStructure(t *testing.T) {
	for _, mode := range []string{"strict", "loose", "acl"} {
		t.Run(mode, func(t *testing.T) {
			cfg, out := writeSAVConfig(t, t.TempDir(), mode)
			if code, _, errs := genRun(t, "--quiet", "generate", "--config", cfg, "--out", out); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			junos, err := os.ReadFile(filepath.Join(out, "cust_s", "junos-sav.conf"))
			if err != nil {
				t.Fatal(err)
			}
			xr, err := os.ReadFile(filepath.Join(out, "cust_s", "iosxr-sav.conf"))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkJunosSAV(string(junos), mode); err != nil {
				t.Errorf("junos: %v\n%s", err, junos)
			}
			if err := checkIOSXRSAV(string(xr), mode); err != nil {
				t.Errorf("iosxr: %v\n%s", err, xr)
			}
			// the checks can fail: each mutation breaks one property
			js, xs := string(junos), string(xr)
			for name, bad := range map[string]string{
				"brace":     strings.Replace(js, "}", "", 1),
				"undefined": strings.Replace(js, "input cust_s_SAV_V4;", "input cust_s_SAV_X;", 1),
				"twice":     strings.Replace(js, "192.0.2.0/24;", "192.0.2.0/24;\n 192.0.2.0/24;", 1),
				"missing":   strings.Replace(js, "203.0.113.0/25;", "", 1),
			} {
				if checkJunosSAV(bad, mode) == nil {
					t.Errorf("junos check accepted mutation %s", name)
				}
			}
			for name, bad := range map[string]string{
				"undefined": strings.Replace(xs, "ipv6 access-group cust_s_SAV_V6", "ipv6 access-group cust_s_SAV_V4", 1),
				"twice":     strings.Replace(xs, " permit ipv4 192.0.2.0/24 any\n", " permit ipv4 192.0.2.0/24 any\n 15 permit ipv4 192.0.2.0/24 any\n", 1),
				"name":      strings.ReplaceAll(xs, "cust_s_SAV_V4", "cust.s"),
				"nodeny":    strings.Replace(xs, "deny ipv4 any any", "permit ipv4 any any", 1),
			} {
				if checkIOSXRSAV(bad, mode) == nil {
					t.Errorf("iosxr check accepted mutation %s", name)
				}
			}
		})
	}
}

var junosName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// checkJunosSAV is the structural check of a Junos SAV file.
func checkJunosSAV(s, mode string) error {
	depth := 0
	for i, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return fmt.Errorf("unbalanced '}' at byte %d", i)
			}
		}
	}
	if depth != 0 {
		return fmt.Errorf("%d braces left open", depth)
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*filter (\S+) \{$`).FindAllStringSubmatch(s, -1) {
		if !junosName.MatchString(m[1]) {
			return fmt.Errorf("filter name %q invalid", m[1])
		}
		defined[m[1]] = true
	}
	ifaces := strings.Count(s, "/* device ")
	refs := regexp.MustCompile(`(?m)^\s*input (\S+);$`).FindAllStringSubmatch(s, -1)
	if len(refs) != 2*ifaces || ifaces == 0 {
		return fmt.Errorf("%d input filters for %d interfaces (want both families on each)", len(refs), ifaces)
	}
	for _, m := range refs {
		if !defined[m[1]] {
			return fmt.Errorf("input filter %s is not defined", m[1])
		}
	}
	for _, w := range savWant {
		if n := strings.Count(s, " "+w+";"); n != 1 {
			return fmt.Errorf("source %s appears %d times", w, n)
		}
	}
	if !strings.Contains(s, "xe-0/0/1 {\n        unit 100 {") {
		return fmt.Errorf("interface xe-0/0/1 unit 100 missing")
	}
	rpf, loose := strings.Count(s, "rpf-check"), strings.Count(s, "mode loose;")
	switch {
	case mode == "strict" && (rpf != 2*ifaces || loose != 0),
		mode == "loose" && (rpf != 2*ifaces || loose != 2*ifaces),
		mode == "acl" && rpf != 0:
		return fmt.Errorf("mode %s: %d rpf-check, %d mode loose for %d interfaces", mode, rpf, loose, ifaces)
	}
	if strings.Count(s, "discard;") != 2 || strings.Count(s, "count ") != 2 {
		return fmt.Errorf("want a counted discard term per family")
	}
	return nil
}

var xrName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// checkIOSXRSAV is the structural check of an IOS-XR SAV file.
func checkIOSXRSAV(s, mode string) error {
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^ipv([46]) access-list (\S+)$`).FindAllStringSubmatch(s, -1) {
		if !xrName.MatchString(m[2]) {
			return fmt.Errorf("ACL name %q invalid", m[2])
		}
		defined[m[1]+" "+m[2]] = true
	}
	refs := regexp.MustCompile(`(?m)^ ipv([46]) access-group (\S+) ingress$`).FindAllStringSubmatch(s, -1)
	ifaces := regexp.MustCompile(`(?m)^interface \S+$`).FindAllString(s, -1)
	if len(refs) != 2*len(ifaces) || len(ifaces) == 0 {
		return fmt.Errorf("%d access-groups for %d interfaces", len(refs), len(ifaces))
	}
	for _, m := range refs {
		if !defined[m[1]+" "+m[2]] {
			return fmt.Errorf("ipv%s access-list %s is not defined", m[1], m[2])
		}
	}
	for _, w := range savWant {
		v := "ipv4"
		if netip.MustParsePrefix(w).Addr().Is6() {
			v = "ipv6"
		}
		if n := strings.Count(s, " permit "+v+" "+w+" any\n"); n != 1 {
			return fmt.Errorf("source %s appears %d times", w, n)
		}
	}
	// sequence numbers increase within each ACL, and each ACL ends in a deny
	for _, acl := range regexp.MustCompile(`(?ms)^ipv[46] access-list \S+\n(.*?)^!`).FindAllStringSubmatch(s, -1) {
		last := 0
		lines := strings.Split(strings.TrimSpace(acl[1]), "\n")
		for _, l := range lines {
			var seq int
			if _, err := fmt.Sscanf(strings.TrimSpace(l), "%d", &seq); err != nil || seq <= last {
				return fmt.Errorf("entry %q: sequence not increasing", l)
			}
			last = seq
		}
		if !regexp.MustCompile(`deny ipv[46] any any$`).MatchString(lines[len(lines)-1]) {
			return fmt.Errorf("ACL does not end in deny: %q", lines[len(lines)-1])
		}
	}
	rx, any := strings.Count(s, "reachable-via rx\n"), strings.Count(s, "reachable-via any\n")
	switch {
	case mode == "strict" && (rx != 2*len(ifaces) || any != 0),
		mode == "loose" && (any != 2*len(ifaces) || rx != 0),
		mode == "acl" && rx+any != 0:
		return fmt.Errorf("mode %s: %d rx, %d any for %d interfaces", mode, rx, any, len(ifaces))
	}
	return nil
}
