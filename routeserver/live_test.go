package routeserver

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/render"
)

// The live test: BIRD runs the generated route-server configuration on 127.0.0.10;
// five members connect from their own loopback addresses: alpha (exabgp, AS64496)
// announces valid routes, routes with announce-control and blackhole communities and
// one route that breaks each filter; bravo and charlie (BIRD) and delta (exabgp)
// announce one valid route each and receive; echo (exabgp) sends more routes than its
// max-prefix. The test asserts exactly which routes every member receives (next hop
// and communities) and the reject reason of every filtered route.

const (
	liveRS      = "127.0.0.10"
	liveRSASN   = 64511
	blackholeNH = "198.18.0.66"
)

type liveMember struct {
	name, kind, addr string
	asn              int
	routes           []exaRoute // exabgp members
	static           []string   // BIRD members: prefixes announced
}

type exaRoute struct {
	prefix, nextHop, path, comms, large string
}

// liveMembers are the members and what they announce.
func liveMembers() []liveMember {
	a := func(p, path, comms, large string) exaRoute { return exaRoute{p, "127.0.0.11", path, comms, large} }
	return []liveMember{
		{name: "alpha", kind: "exabgp", addr: "127.0.0.11", asn: 64496, routes: []exaRoute{
			a("203.0.113.0/26", "64496", "64496:100", "64496:1:1"),            // valid; informational communities pass
			a("203.0.113.64/26", "64496", "0:64497", ""),                      // not to bravo
			a("203.0.113.128/26", "64496", "64511:64498", ""),                 // only to charlie
			a("203.0.113.192/26", "64496", "0:64511", ""),                     // to nobody
			a("198.51.100.0/26", "64496", "", "64511:0:64499"),                // not to delta
			a("198.51.100.64/26", "64496", "", "64511:1:64497"),               // only to bravo
			a("198.51.100.128/26", "64496 64500", "", ""),                     // valid, customer origin
			a("198.51.100.200/32", "64496", "65535:666", ""),                  // blackhole, authorised
			a("192.0.2.77/32", "64496", "65535:666", ""),                      // blackhole, not authorised: 9
			a("203.0.113.0/28", "64496", "", ""),                              // 1 too long
			a("12.0.0.0/7", "64496", "", ""),                                  // 2 too short
			a("10.10.0.0/16", "64496", "", ""),                                // 3 bogon prefix
			a("192.0.2.0/27", "64496 65535 64500", "", ""),                    // 4 bogon ASN
			a("192.0.2.32/27", "64496 64496 64496 64496 64496 64496", "", ""), // 5 path too long (limit 5)
			a("192.0.2.64/27", "64500", "", ""),                               // 7 first AS
			{"192.0.2.96/27", "127.0.0.14", "64496", "", ""},                  // 8 next hop of another member
			a("192.0.2.128/27", "64496", "", ""),                              // 9 not in the IRR filter
			a("192.0.2.160/27", "64496 64505", "", ""),                        // 10 origin not in AS-ALPHA
			a("192.0.2.192/27", "64496", "", ""),                              // 13 RPKI invalid (ROA AS64505)
			a("198.51.100.192/27", "64496 174 64500", "", ""),                 // 14 transit-free AS174
			a("198.51.100.224/27", "64496 64502 64500", "", ""),               // 14 never via route servers
		}},
		{name: "bravo", kind: "bird", addr: "127.0.0.12", asn: 64497, static: []string{"192.0.2.0/26"}},
		{name: "charlie", kind: "bird", addr: "127.0.0.13", asn: 64498},
		{name: "delta", kind: "exabgp", addr: "127.0.0.14", asn: 64499, routes: []exaRoute{{"192.0.2.64/26", "127.0.0.14", "64499", "", ""}}},
		{name: "echo", kind: "exabgp", addr: "127.0.0.15", asn: 64501, routes: []exaRoute{
			{"198.51.100.0/25", "127.0.0.15", "64501", "", ""}, {"198.51.100.128/25", "127.0.0.15", "64501", "", ""},
			{"192.0.2.0/25", "127.0.0.15", "64501", "", ""}}},
	}
}

// received is what one member holds from the route server: next hop and communities
// per prefix (communities sorted, in BIRD's "(a,b)" / "(a, b, c)" text or exabgp's).
type received map[string]string

// wantReceived are the routes each member must hold, computed by hand from the
// announce-control communities above (next hop | communities | large communities).
var wantReceived = map[string]received{
	"alpha": {"192.0.2.0/26": "127.0.0.12||", "192.0.2.64/26": "127.0.0.14||"},
	"bravo": {"203.0.113.0/26": "127.0.0.11|64496:100|64496:1:1", "198.51.100.0/26": "127.0.0.11||",
		"198.51.100.64/26": "127.0.0.11||", "198.51.100.128/26": "127.0.0.11||",
		"198.51.100.200/32": blackholeNH + "|65535:65281 65535:666|", "192.0.2.64/26": "127.0.0.14||"},
	"charlie": {"203.0.113.0/26": "127.0.0.11|64496:100|64496:1:1", "203.0.113.64/26": "127.0.0.11||",
		"203.0.113.128/26": "127.0.0.11||", "198.51.100.0/26": "127.0.0.11||", "198.51.100.128/26": "127.0.0.11||",
		"198.51.100.200/32": blackholeNH + "|65535:65281 65535:666|", "192.0.2.0/26": "127.0.0.12||", "192.0.2.64/26": "127.0.0.14||"},
	"delta": {"203.0.113.0/26": "127.0.0.11|64496:100|64496:1:1", "203.0.113.64/26": "127.0.0.11||",
		"198.51.100.128/26": "127.0.0.11||", "198.51.100.200/32": blackholeNH + "|65535:65281 65535:666|", "192.0.2.0/26": "127.0.0.12||"},
	"echo": {},
}

// wantReasons are the Euro-IX reject reasons of alpha's filtered routes.
var wantReasons = map[string]int{
	"192.0.2.77/32": 9, "203.0.113.0/28": 1, "12.0.0.0/7": 2, "10.10.0.0/16": 3, "192.0.2.0/27": 4,
	"192.0.2.32/27": 5, "192.0.2.64/27": 7, "192.0.2.96/27": 8, "192.0.2.128/27": 9, "192.0.2.160/27": 10,
	"192.0.2.192/27": 13, "198.51.100.192/27": 14, "198.51.100.224/27": 14,
}

func TestLiveRouteServer(t *testing.T) {
	for _, policy := range []string{"reject", "tag"} {
		t.Run(policy, func(t *testing.T) { liveRun(t, policy) })
	}
}

func liveRun(t *testing.T, rejectPolicy string) {
	if testing.Short() {
		peer.Missing(t, "live route-server test skipped with -short")
	}
	exabgp := peer.Require(t, "exabgp")
	peer.Require(t, "bird")
	dir := t.TempDir()
	rsPort := peer.FreePort(t)
	members := liveMembers()

	// The route-server config, built and rendered by the code under test.
	var yml strings.Builder
	abs, _ := filepath.Abs("testdata/live")
	fmt.Fprintf(&yml, `irr: [%s/irr.db]
rpki: %s/vrps.json
rs:
  asn: %d
  router_id: 198.18.0.10
  reject_policy: %s
  local_address: {ipv4: %s}
  port: %d
  multihop: 2
  blackhole: {next_hop_ipv4: %s}
  never_via_route_servers: {asns: [64502]}
  rov: static
defaults:
  prefix_length: {ipv4: [8, 27], ipv6: [16, 48]}
  max_as_path_length: 5
  bogons:
    except_asns: [64496-64511]
    except_prefixes: [192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]
members:
  - {name: alpha, asn: 64496, addresses: [127.0.0.11], as_set: [AS-ALPHA], max_prefix: {ipv4: 100}}
  - {name: bravo, asn: 64497, addresses: [127.0.0.12]}
  - {name: charlie, asn: 64498, addresses: [127.0.0.13]}
  - {name: delta, asn: 64499, addresses: [127.0.0.14]}
  - {name: echo, asn: 64501, addresses: [127.0.0.15], max_prefix: {ipv4: 2, action: teardown}}
`, abs, abs, liveRSASN, rejectPolicy, liveRS, rsPort, blackholeNH)
	cfgPath := filepath.Join(dir, "rs.yml")
	if err := os.WriteFile(cfgPath, []byte(yml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c := buildExample(t, cfgPath, nil)
	conf, err := render.RouteServer("bird", render.Options{}, c)
	if err != nil {
		t.Fatal(err)
	}
	birdParse(t, conf)
	rsDir := filepath.Join(dir, "rs")
	os.MkdirAll(rsDir, 0o755)
	os.WriteFile(filepath.Join(rsDir, "rs.conf"), conf, 0o644)
	rs := peer.StartBIRD(t, rsDir, fmt.Sprintf("log %q all;\ninclude %q;\n", filepath.Join(rsDir, "bird.log"), filepath.Join(rsDir, "rs.conf")))
	peer.Eventually(t, "route server up", 20*time.Second, rs.Up, rs.Daemon)

	// The members.
	birds := map[string]*peer.BIRD{}
	recv := map[string]string{} // exabgp member -> its received-updates file
	exaOut := map[string]*peer.Daemon{}
	var daemons []*peer.Daemon
	daemons = append(daemons, rs.Daemon)
	for _, m := range members {
		mdir := filepath.Join(dir, m.name)
		os.MkdirAll(mdir, 0o755)
		switch m.kind {
		case "bird":
			var st strings.Builder
			for _, p := range m.static {
				fmt.Fprintf(&st, "\troute %s unreachable;\n", p)
			}
			bconf := fmt.Sprintf(`log %q all;
router id 198.18.0.%s;
protocol device { }
protocol static announce { ipv4; %s }
protocol bgp tors {
	local %s port %d as %d;
	strict bind on;
	neighbor %s port %d as %d;
	multihop 2;
	connect delay time 1;
	connect retry time 2;
	ipv4 { import all; export where proto = "announce"; };
}
`, filepath.Join(mdir, "bird.log"), strings.TrimPrefix(m.addr, "127.0.0."), st.String(), m.addr, peer.FreePort(t), m.asn, liveRS, rsPort, liveRSASN)
			b := peer.StartBIRD(t, mdir, bconf)
			birds[m.name] = b
			daemons = append(daemons, b.Daemon)
		case "exabgp":
			rfile := filepath.Join(mdir, "received.json")
			script := filepath.Join(mdir, "receive.sh")
			// Not exec: the shell keeps stdout (the pipe exabgp reads API commands from)
			// open; exabgp counts its EOF as the helper's death.
			os.WriteFile(script, []byte("#!/bin/sh\ncat >> "+rfile+"\n"), 0o755)
			var routes strings.Builder
			for _, r := range m.routes {
				fmt.Fprintf(&routes, "    route %s next-hop %s origin igp as-path [ %s ]", r.prefix, r.nextHop, r.path)
				if r.comms != "" {
					fmt.Fprintf(&routes, " community [ %s ]", r.comms)
				}
				if r.large != "" {
					fmt.Fprintf(&routes, " large-community [ %s ]", r.large)
				}
				routes.WriteString(";\n")
			}
			econf := fmt.Sprintf(`process receive {
  run %s;
  encoder json;
}
neighbor %s {
  router-id 198.18.0.%s;
  local-address %s;
  local-as %d;
  peer-as %d;
  connect %d;
  family { ipv4 unicast; }
  api { processes [ receive ]; neighbor-changes; receive { parsed; update; notification; } }
  static {
%s  }
}
`, script, liveRS, strings.TrimPrefix(m.addr, "127.0.0."), m.addr, m.asn, liveRSASN, rsPort, routes.String())
			path := filepath.Join(mdir, "exabgp.conf")
			os.WriteFile(path, []byte(econf), 0o644)
			d := peer.Start(t, "/usr/bin/env", "exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.tcp.bind=",
				"exabgp.api.cli=false", "exabgp.log.level=WARNING", "exabgp.daemon.daemonize=false", exabgp, path)
			recv[m.name] = rfile
			exaOut[m.name] = d
			daemons = append(daemons, d)
		}
	}

	proto := func(m liveMember) string { return m.name + "_4_1" }
	established := func(m liveMember) bool {
		out, _ := rs.Birdc("show", "protocols", proto(m))
		return strings.Contains(out, "Established")
	}
	for _, m := range members {
		if m.name == "echo" {
			continue
		}
		peer.Eventually(t, m.name+" Established", 60*time.Second, func() bool { return established(m) }, daemons...)
	}
	// echo exceeds its limit of 2: the route server shuts the session down.
	var echoState string
	peer.Eventually(t, "echo shut down by its max-prefix", 60*time.Second, func() bool {
		echoState, _ = rs.Birdc("show", "protocols", "all", "echo_4_1")
		return strings.Contains(echoState, "Route limit exceeded") && !strings.Contains(echoState, "Established")
	}, daemons...)

	// Every member ends with exactly the routes it must have.
	got := map[string]received{}
	read := func(name string) received {
		if b, ok := birds[name]; ok {
			out, _ := b.Birdc("show", "route", "all", "protocol", "tors")
			return parseBIRDRoutes(out)
		}
		if f, ok := recv[name]; ok {
			return parseExaBGP(t, f)
		}
		return nil
	}
	var mu sync.Mutex
	ok := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range members {
			got[m.name] = read(m.name)
		}
		for name, want := range wantReceived {
			if fmt.Sprint(got[name]) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(60 * time.Second)
	for !ok() && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	for _, m := range members {
		if fmt.Sprint(got[m.name]) != fmt.Sprint(wantReceived[m.name]) {
			t.Errorf("%s (%s) received\n%s\nwant\n%s", m.name, m.kind, dump(got[m.name]), dump(wantReceived[m.name]))
		}
	}

	// The reject reason of every filtered route of alpha.
	var out string
	if rejectPolicy == "reject" {
		out, _ = rs.Birdc("show", "route", "filtered", "all", "protocol", "alpha_4_1")
	} else {
		out, _ = rs.Birdc("show", "route", "all", "protocol", "alpha_4_1")
	}
	reasons := map[string]int{}
	for p, attrs := range parseBIRDRoutes(out) {
		large := strings.Split(attrs, "|")[2]
		for _, lc := range strings.Fields(large) {
			if v, ok := strings.CutPrefix(lc, strconv.Itoa(liveRSASN)+":1101:"); ok {
				n, _ := strconv.Atoi(v)
				reasons[p] = n
			}
		}
	}
	if fmt.Sprint(reasons) != fmt.Sprint(wantReasons) {
		t.Errorf("reject reasons (%s)\n got %v\nwant %v\n%s", rejectPolicy, reasons, wantReasons, out)
	}
	if t.Failed() {
		b, _ := os.ReadFile(filepath.Join(rsDir, "bird.log"))
		t.Logf("route server log:\n%s", tail(string(b), 60))
		for _, cmd := range [][]string{{"show", "protocols", "all", "alpha_4_1"}, {"show", "route", "all"}} {
			o, _ := rs.Birdc(cmd...)
			t.Logf("birdc %s:\n%s", strings.Join(cmd, " "), tail(o, 80))
		}
		for _, m := range members {
			if m.kind == "exabgp" {
				t.Logf("%s exabgp output: %s", m.name, tail(exaOut[m.name].Output(), 20))
			}
		}
	}
}

// parseBIRDRoutes reads "birdc show route all" into prefix -> "next hop|communities|
// large communities", communities as a:b and a:b:c, sorted.
func parseBIRDRoutes(out string) received {
	res := received{}
	var cur string
	var nh string
	var comms, large []string
	flush := func() {
		if cur != "" {
			slices.Sort(comms)
			slices.Sort(large)
			res[cur] = nh + "|" + strings.Join(comms, " ") + "|" + strings.Join(large, " ")
		}
		cur, nh, comms, large = "", "", nil, nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' && strings.Contains(f[0], "/") {
			flush()
			cur = f[0]
			continue
		}
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "BGP.next_hop:"):
			nh = f[1]
		case strings.HasPrefix(strings.TrimSpace(line), "BGP.community:"):
			comms = pairs(strings.TrimPrefix(strings.TrimSpace(line), "BGP.community:"))
		case strings.HasPrefix(strings.TrimSpace(line), "BGP.large_community:"):
			large = pairs(strings.TrimPrefix(strings.TrimSpace(line), "BGP.large_community:"))
		}
	}
	flush()
	return res
}

// pairs turns "(1,2) (3,4)" or "(1, 2, 3)" into "1:2 3:4" / "1:2:3".
func pairs(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ")") {
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(part), "("))
		if part == "" {
			continue
		}
		out = append(out, strings.ReplaceAll(strings.ReplaceAll(part, " ", ""), ",", ":"))
	}
	return out
}

// parseExaBGP replays exabgp's JSON update messages (announce and withdraw) into the
// routes the member holds.
func parseExaBGP(t *testing.T, path string) received {
	b, err := os.ReadFile(path)
	if err != nil {
		return received{}
	}
	res := received{}
	for _, line := range strings.Split(string(b), "\n") {
		var msg struct {
			Type     string `json:"type"`
			Neighbor struct {
				State   string `json:"state"`
				Message struct {
					Update struct {
						Attribute struct {
							Community      [][]uint32 `json:"community"`
							LargeCommunity [][]uint32 `json:"large-community"`
						} `json:"attribute"`
						Announce map[string]map[string][]struct {
							NLRI string `json:"nlri"`
						} `json:"announce"`
						Withdraw map[string][]struct {
							NLRI string `json:"nlri"`
						} `json:"withdraw"`
					} `json:"update"`
				} `json:"message"`
			} `json:"neighbor"`
		}
		if json.Unmarshal([]byte(line), &msg) != nil {
			continue
		}
		if msg.Type == "notification" || msg.Type == "state" && msg.Neighbor.State != "up" {
			clear(res) // the session went down: the routes are gone
			continue
		}
		if msg.Type != "update" {
			continue
		}
		u := msg.Neighbor.Message.Update
		var comms, large []string
		for _, c := range u.Attribute.Community {
			comms = append(comms, fmt.Sprintf("%d:%d", c[0], c[1]))
		}
		for _, c := range u.Attribute.LargeCommunity {
			large = append(large, fmt.Sprintf("%d:%d:%d", c[0], c[1], c[2]))
		}
		slices.Sort(comms)
		slices.Sort(large)
		for _, byNH := range u.Announce {
			for nh, nlris := range byNH {
				for _, n := range nlris {
					res[n.NLRI] = nh + "|" + strings.Join(comms, " ") + "|" + strings.Join(large, " ")
				}
			}
		}
		for _, nlris := range u.Withdraw {
			for _, n := range nlris {
				delete(res, n.NLRI)
			}
		}
	}
	return res
}

func dump(r received) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s %s\n", k, r[k])
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
