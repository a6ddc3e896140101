package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
)

// permitsPath is the model of an as-path filter: the path starts with PeerAS (when
// set) and its origin (right-most AS) is in Origins, or is PeerAS when the peer is a
// member.
func permitsPath(f *policy.ASPathFilter, path []uint32) bool {
	if len(path) == 0 {
		return false
	}
	if f.PeerAS != 0 && path[0] != uint32(f.PeerAS) {
		return false
	}
	last := routing.ASN(path[len(path)-1])
	return slices.Contains(f.Origins, last) || f.PeerIsMember && last == f.PeerAS
}

// TestBirdPeerASLive: the BIRD as-path output with a peer AS (the set and the
// function NAME_path) runs in a real BIRD as the import filter of a static protocol
// whose routes carry every test path; BIRD imports exactly the routes whose path the
// model permits: the left-most AS is the peer and the origin is in the set.
func TestBirdPeerASLive(t *testing.T) {
	r, err := New("bird", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	conf.WriteString(birdHeader)
	filters := []*policy.ASPathFilter{fixtureAS(64496), fixtureAS(64510), {PeerAS: 64496}}
	for i, f := range filters {
		f.Name = fmt.Sprintf("CUST%d", i)
		out, err := r.ASPath(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "function CUST"+fmt.Sprint(i)+"_path()") {
			t.Fatalf("no first-AS check rendered:\n%s", out)
		}
		conf.Write(out)
	}
	paths := testPaths()
	for i, f := range filters {
		fmt.Fprintf(&conf, "protocol static stat%d {\n  ipv4 { import where %s_path(); };\n", i, f.Name)
		for j, p := range paths {
			fmt.Fprintf(&conf, "  route 10.%d.%d.0/24 blackhole {", j>>8, j&0xff)
			for k := len(p) - 1; k >= 0; k-- {
				fmt.Fprintf(&conf, " bgp_path.prepend(%d);", p[k])
			}
			conf.WriteString(" };\n")
		}
		conf.WriteString("}\n")
	}
	dir := t.TempDir()
	b := peer.StartBIRD(t, dir, conf.String())
	peer.Eventually(t, "bird to start", 10*time.Second, b.Up, b.Daemon)
	for i, f := range filters {
		var want []string
		for j, p := range paths {
			if permitsPath(f, p) {
				want = append(want, fmt.Sprintf("10.%d.%d.0/24", j>>8, j&0xff))
			}
		}
		var got []string
		peer.Eventually(t, "static routes", 10*time.Second, func() bool {
			out, err := b.Birdc("show", "route", "protocol", fmt.Sprintf("stat%d", i))
			if err != nil {
				return false
			}
			got = got[:0]
			for _, line := range strings.Split(out, "\n") {
				if fs := strings.Fields(line); len(fs) > 0 && strings.Contains(fs[0], "/") {
					got = append(got, fs[0])
				}
			}
			return len(got) > 0 || len(want) == 0
		}, b.Daemon)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s (peer AS%d): BIRD imported %d routes, the model permits %d\nBIRD: %q\nmodel: %q", f.Name, f.PeerAS, len(got), len(want), got, want)
		}
		if len(f.Origins) > 0 && (len(want) == 0 || len(want) == len(paths)) {
			t.Fatalf("weak test: %d of %d paths permitted", len(want), len(paths))
		}
		t.Logf("%s: BIRD imported exactly the %d of %d paths the model permits", f.Name, len(want), len(paths))
	}
}

// TestOpenBGPDPeerAS: with a peer AS the OpenBGPD as-path output carries the
// left-most-AS rule (peer-as), which OpenBGPD's configtest accepts.
func TestOpenBGPDPeerAS(t *testing.T) {
	bgpd := peer.OpenBGPD(t)
	r, err := New("openbgpd", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*policy.ASPathFilter{fixtureAS(64496), fixtureAS(64510), {PeerAS: 64496}} {
		f.Name = "AS-EXAMPLE"
		out, err := r.ASPath(f)
		if err != nil {
			t.Fatal(err)
		}
		rule := fmt.Sprintf("deny quick from AS %d peer-as != %d\n", f.PeerAS, f.PeerAS)
		if !strings.Contains(string(out), rule) {
			t.Errorf("no first-AS rule %q in\n%s", rule, out)
		}
		if msg, ok := openbgpdCheck(t, bgpd, openbgpdWrap(string(out))); !ok {
			t.Errorf("bgpd -n refuses: %s\n%s", msg, out)
		}
	}
	// Without a peer AS there is no rule.
	out, _ := r.ASPath(fixtureAS(0))
	if strings.Contains(string(out), "peer-as") {
		t.Errorf("peer-as rule without a peer AS:\n%s", out)
	}
}

// TestBirdPeerHelperName: the helper function's name is validated like the set's.
func TestBirdPeerHelperName(t *testing.T) {
	r, _ := New("bird", Options{})
	f := fixtureAS(64496)
	f.Name = strings.Repeat("A", 62) // the set name fits in 64, NAME_path does not
	if _, err := r.ASPath(f); err == nil {
		t.Error("a helper name longer than 64 accepted")
	}
	f.Name = "bgp" // "bgp_path" is a BIRD keyword (and so is bgp)
	if _, err := r.ASPath(f); err == nil {
		t.Error("reserved name accepted")
	}
}
