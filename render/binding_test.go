package render

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/config"
	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// withOriginBinding switches origin_binding on for every example customer and gives
// transit_cust the whole AS-EXAMPLE cone (eight origins with route objects, one of
// them the neighbour's; the plain example has one bound origin only).
func withOriginBinding(cfg *config.File) {
	for i := range cfg.Customers {
		c := &cfg.Customers[i]
		c.Knobs.OriginBinding = true
		if c.Name == "transit_cust" {
			c.ASSets = []string{"AS-EXAMPLE"}
		}
	}
}

// TestPolicyOriginBinding: every vendor renders origin_binding (the capability table
// says so), from per-origin objects whose names are valid and deterministic, and a
// document without binding renders none of them.
func TestPolicyOriginBinding(t *testing.T) {
	docs, _ := exampleDocs(t, withOriginBinding)
	plain, _ := exampleDocs(t, noOriginBinding)
	d4 := docs["transit_cust"][0]
	if !d4.Session.OriginBinding || len(d4.Prefixes.Entries) < 5 {
		t.Fatalf("fixture: transit_cust v4 binding %v, %d entries", d4.Session.OriginBinding, len(d4.Prefixes.Entries))
	}
	for _, v := range PolicyVendors {
		if c := Capabilities(v)["origin-binding"]; c != CapRule {
			t.Errorf("%s: origin-binding capability %q", v, c)
		}
		out, err := RenderPolicy(v, docs["transit_cust"], Options{})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		again, _ := RenderPolicy(v, docs["transit_cust"], Options{})
		if string(again.Text) != string(out.Text) {
			t.Errorf("%s: output not deterministic", v)
		}
		text := string(out.Text)
		for _, name := range []string{"transit_cust_PFX_V4_AS64496", "transit_cust_PFX_V4_AS64500", "transit_cust_PFX_V4_ANY", "transit_cust_PFX_V6_AS65538", "transit_cust_IN_V4", "transit_cust_IN_V6"} {
			if !strings.Contains(text, name) {
				t.Errorf("%s: %s missing", v, name)
			}
		}
		p, err := RenderPolicy(v, plain["transit_cust"], Options{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(p.Text), "_PFX_V4_AS") || strings.Contains(string(p.Text), "origin binding") {
			t.Errorf("%s: origin binding objects without origin_binding", v)
		}
	}
}

// TestBirdParsesOriginBinding: bird -p accepts every example customer's policy with
// origin binding after the shared export file, and all of them in one bird.conf.
func TestBirdParsesOriginBinding(t *testing.T) {
	bird := peer.Require(t, "bird")
	docs, _ := exampleDocs(t, withOriginBinding)
	shared := exportText(t, "bird", docs)
	var all strings.Builder
	all.WriteString(birdHeader + shared)
	for name, ds := range docs {
		out, err := RenderPolicy("bird", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		birdParse(t, bird, birdHeader+shared+string(out.Text))
		all.Write(out.Text)
	}
	birdParse(t, bird, all.String())
}

// TestFRRLoadsOriginBinding: vtysh -C accepts every example customer's FRR policy
// with origin binding, after the shared export file.
func TestFRRLoadsOriginBinding(t *testing.T) {
	vtysh := peer.Require(t, "vtysh")
	docs, _ := exampleDocs(t, withOriginBinding)
	shared := exportText(t, "frr", docs)
	for name, ds := range docs {
		out, err := RenderPolicy("frr", ds, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join(t.TempDir(), "frr.conf")
		if err := os.WriteFile(path, []byte(shared+string(out.Text)), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.Command(vtysh, "-C", "-f", path).CombinedOutput(); err != nil {
			t.Errorf("vtysh -C %s: %v\n%s", name, err, b)
		}
	}
}

// TestPolicyOriginBindingGoldens: the origin-binding policy of transit_cust (the
// AS-EXAMPLE cone) per vendor. BIRD's and FRR's are checked by bird -p and vtysh -C
// above and run live in TestLivePolicies; Junos and IOS-XR have no parser here:
// TestPolicyOriginBindingStructure checks their structure and
// TestIOSXROriginBindingDiff their decisions.
func TestPolicyOriginBindingGoldens(t *testing.T) {
	docs, _ := exampleDocs(t, withOriginBinding)
	for _, v := range PolicyVendors {
		out, err := RenderPolicy(v, docs["transit_cust"], Options{})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		checkGolden(t, "policy_"+v+"_binding.golden", out.Text)
	}
}

// TestPolicyOriginBindingStructure runs the Junos and IOS-XR structural checks on
// every example customer with origin binding, loaded with the shared export file.
func TestPolicyOriginBindingStructure(t *testing.T) {
	docs, _ := exampleDocs(t, withOriginBinding)
	checks := map[string]func(string) []string{"junos": checkJunos, "iosxr": checkIOSXR}
	for vendor, check := range checks {
		shared := exportText(t, vendor, docs)
		for name, ds := range docs {
			out, err := RenderPolicy(vendor, ds, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range check(shared + string(out.Text)) {
				t.Errorf("%s %s: %s", vendor, name, e)
			}
		}
	}
}

var (
	xrSetLine    = regexp.MustCompile(`^\s+(\S+/\d+)(?: ge (\d+))?(?: le (\d+))?,?$`)
	xrBindBranch = regexp.MustCompile(`^\s+(?:if|elseif) destination in (\S+)(?: and as-path originates-from '(\d+)')? then$`)
)

// xrBinding is a minimal reading of the IOS-XR output: its prefix-sets and, per
// route-policy, the branches of the origin-binding chain (set, origin; origin 0 for
// the unbound set). It is an independent implementation of what RPL does with them.
type xrBinding struct {
	sets     map[string][]routing.PrefixRange
	branches map[string][][2]string
}

func parseXRBinding(t *testing.T, text string) xrBinding {
	x := xrBinding{sets: map[string][]routing.PrefixRange{}, branches: map[string][][2]string{}}
	set, pol := "", ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "prefix-set "):
			set = strings.TrimPrefix(line, "prefix-set ")
			x.sets[set] = []routing.PrefixRange{}
		case strings.HasPrefix(line, "route-policy "):
			pol = strings.TrimPrefix(line, "route-policy ")
		case line == "end-set":
			set = ""
		case line == "end-policy":
			pol = ""
		case set != "":
			m := xrSetLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			p := netip.MustParsePrefix(m[1])
			lo, hi := p.Bits(), p.Bits()
			if m[2] != "" {
				lo, hi = xrAtoi(t, m[2]), p.Addr().BitLen()
			}
			if m[3] != "" {
				hi = xrAtoi(t, m[3])
			}
			x.sets[set] = append(x.sets[set], routing.PrefixRange{Prefix: p, Min: lo, Max: hi})
		case pol != "":
			if m := xrBindBranch.FindStringSubmatch(line); m != nil && strings.Contains(line, "_PFX_V") {
				x.branches[pol] = append(x.branches[pol], [2]string{m[1], m[2]})
			}
		}
	}
	return x
}

func xrAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// passes reports whether the chain of policy pol lets route (p, origin) through.
func (x xrBinding) passes(pol string, p netip.Prefix, origin routing.ASN) bool {
	for _, b := range x.branches[pol] {
		if b[1] != "" && b[1] != strconv.FormatUint(uint64(origin), 10) {
			continue
		}
		for _, r := range x.sets[b[0]] {
			if r.Contains(p) {
				return true
			}
		}
	}
	return false
}

// TestIOSXROriginBindingDiff: for routes around every entry of transit_cust's filter,
// originated by every ASN of the cone and one outside it, the prefix rule as the
// rendered IOS-XR chain decides it (read back from the output) agrees with
// policy.Evaluate: where Evaluate's deciding rule is prefix or accept, the chain
// passes exactly the accepted routes.
func TestIOSXROriginBindingDiff(t *testing.T) {
	docs, cfg := exampleDocs(t, withOriginBinding)
	_, table := buildSessions(t, cfg)
	out, err := RenderPolicy("iosxr", docs["transit_cust"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := parseXRBinding(t, string(out.Text))
	checked, rejected := 0, 0
	for _, d := range docs["transit_cust"][:2] {
		if len(x.branches[d.Name]) == 0 {
			t.Fatalf("%s: no origin-binding chain read from the output", d.Name)
		}
		origins := append(append([]routing.ASN{}, d.Origins.ASNs...), 64511)
		for _, e := range d.Prefixes.Entries {
			for _, p := range []netip.Prefix{e.Prefix, netip.PrefixFrom(e.Prefix.Addr(), e.Max)} {
				for _, o := range origins {
					path := policy.Sequence(d.Session.NeighborASN, o)
					if o == d.Session.NeighborASN {
						path = policy.Sequence(o)
					}
					dec, err := policy.Evaluate(d, policy.Announcement{Prefix: p, Path: path}.WithROV(table))
					if err != nil {
						t.Fatal(err)
					}
					if dec.Rule != policy.RulePrefix && dec.Rule != policy.RuleAccept {
						continue
					}
					checked++
					if dec.Rule == policy.RulePrefix {
						rejected++
					}
					if got := x.passes(d.Name, p, o); got != dec.Accepted() {
						t.Errorf("%s %s from %s: IOS-XR chain passes %v, Evaluate %s (%s)", d.Name, p, o, got, dec.Action, dec.Reason)
					}
				}
			}
		}
	}
	if checked < 40 || rejected < 10 || rejected == checked {
		t.Fatalf("weak differential: %d routes checked, %d rejected by the prefix rule", checked, rejected)
	}
	t.Logf("%d routes: the IOS-XR chain and Evaluate agree (%d rejected by the prefix rule)", checked, rejected)
}

// TestIOSXRRuntimeROVPerFamily: with an RTR cache, IOS-XR validates per address
// family, so every family that has a session gets "bgp origin-as validation enable"
// in its global address-family block (cust_one has an IPv4 and an IPv6 session);
// without a cache there is none.
func TestIOSXRRuntimeROVPerFamily(t *testing.T) {
	docs, _ := exampleDocs(t, noOriginBinding)
	out, err := RenderPolicy("iosxr", docs["cust_one"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	text := string(out.Text)
	bgp := text[strings.Index(text, "\nrouter bgp "):]
	for _, af := range []string{"ipv4", "ipv6"} {
		block := " address-family " + af + " unicast\n  bgp origin-as validation enable\n !\n"
		if !strings.Contains(bgp, block) || strings.Index(bgp, block) > strings.Index(bgp, " neighbor ") {
			t.Errorf("no global %s block with origin-as validation before the neighbours:\n%s", af, bgp)
		}
	}
	for _, d := range docs["cust_one"] {
		d.Session.RTRCache = netip.AddrPort{}
	}
	out, err = RenderPolicy("iosxr", docs["cust_one"], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out.Text), "origin-as validation") {
		t.Error("origin-as validation without an RTR cache")
	}
}
