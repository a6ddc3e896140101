package whoisd

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/whois"
)

func joinPrefixes(ps ...[]netip.Prefix) string {
	var s []string
	for _, l := range ps {
		for _, p := range l {
			s = append(s, p.String())
		}
	}
	return strings.Join(s, " ")
}

// a builds the expected A reply; an empty answer is D, as in IRRd.
func a(data string) whois.Reply {
	if data == "" {
		return whois.Reply{Kind: whois.ReplyD}
	}
	return whois.Reply{Kind: whois.ReplyA, Data: []byte(data)}
}

var (
	replyC = whois.Reply{Kind: whois.ReplyC}
	replyD = whois.Reply{Kind: whois.ReplyD}
)

func replyF(msg string) whois.Reply { return whois.Reply{Kind: whois.ReplyF, Msg: msg} }

// TestSession runs a persistent IRRd session. Exact messages are IRRd's
// (irrd/server/whois/query_parser.py); data answers must equal what the Index answers
// through irr.Querier, framed as IRRd frames them.
func TestSession(t *testing.T) {
	ix := smallIndex(t)
	ts := startServer(t, ix, Options{})
	ctx := context.Background()
	members := func(srcs []string, name string, rec bool) string {
		m, _, err := ix.Members(ctx, srcs, name, rec)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(m, " ")
	}
	routes := func(srcs []string, asn routing.ASN, v6 bool) string {
		r, err := ix.Routes(ctx, srcs, []routing.ASN{asn}, v6)
		if err != nil {
			t.Fatal(err)
		}
		return joinPrefixes(r[0])
	}
	setPfx := func(srcs []string, name string, v6 bool) []netip.Prefix {
		p, _, err := ix.SetPrefixes(ctx, srcs, name, v6)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	routeObjects := func(rs []irr.Route) string {
		var texts []string
		for _, r := range rs {
			for _, o := range ix.Lookup([]string{r.Source}, r.Prefix.String()) {
				if o.Get("origin") == r.Origin.String() {
					texts = append(texts, o.Text())
				}
			}
		}
		return strings.TrimRight(strings.Join(texts, "\n"), "\n")
	}
	both := []string{"TEST", "TEST2"}
	steps := []struct {
		query string
		want  *whois.Reply // nil: no reply expected
	}{
		{"!!", nil},
		{"!nbgpfilter-test 1.0", &replyC},
		{"!a", ptr(replyF("Missing required set name for A query"))},
		{"!s-lc", ptr(a("TEST,TEST2"))},
		{"!iAS-TEST,1", ptr(a(members(nil, "AS-TEST", true)))},
		{"!iAS-TEST", ptr(a(members(nil, "AS-TEST", false)))},
		{"!iRS-TEST,1", ptr(a(members(nil, "RS-TEST", true)))},
		{"!iAS-NOPE", &replyD},
		{"!iAS-EMPTY,1", &replyD},
		{"!gas64496", ptr(a(routes(nil, 64496, false)))},
		{"!6AS64496", ptr(a(routes(nil, 64496, true)))},
		{"!gas64510", &replyD},
		{"!a4AS-TEST", ptr(a(joinPrefixes(setPfx(nil, "AS-TEST", false))))},
		{"!a6AS-TEST", ptr(a(joinPrefixes(setPfx(nil, "AS-TEST", true))))},
		{"!aAS-TEST", ptr(a(joinPrefixes(setPfx(nil, "AS-TEST", false), setPfx(nil, "AS-TEST", true))))},
		{"!a4AS-NOPE", &replyD},
		{"!sTEST2", &replyC},
		{"!s-lc", ptr(a("TEST2"))},
		{"!iAS-SMALL", ptr(a(members([]string{"TEST2"}, "AS-SMALL", false)))},
		{"!sTEST,NOPE", ptr(replyF("One or more selected sources are unavailable."))},
		{"!s-lc", ptr(a("TEST2"))},
		{"!stest,test2", &replyC},
		{"!iAS-SMALL", ptr(a(members(both, "AS-SMALL", false)))},
		{"!r203.0.113.0/24,o", ptr(a("AS64499"))},
		{"!r203.0.113.0/24", ptr(a(routeObjects(ix.FindRoutes(both, netip.MustParsePrefix("203.0.113.0/24"), irr.Exact))))},
		{"!r192.0.2.0/24,M", ptr(a(routeObjects(ix.FindRoutes(both, netip.MustParsePrefix("192.0.2.0/24"), irr.AllMoreSpecific))))},
		{"!r192.0.2.128/26,l", ptr(a(routeObjects(ix.FindRoutes(both, netip.MustParsePrefix("192.0.2.128/26"), irr.OneLessSpecific))))},
		{"!r10.0.0.0/8,o", &replyD},
		{"!maut-num,AS64496", ptr(a(strings.TrimRight(ix.Lookup(nil, "AS64496")[0].Text(), "\n")))},
		{"!maut-num,AS64497", &replyD},
		{"!v", ptr(a("bgpfilter whois-server (IRRd 4 protocol)"))},
		{"!t5", &replyC},
		{"!t0", ptr(replyF("Invalid value for timeout: 0"))},
		{"!gfoo", ptr(replyF(`Invalid AS number FOO: must start with "AS"`))},
		{"!z", ptr(replyF("Unrecognised command: z"))},
		{"!", ptr(replyF("Missing IRRD command"))},
		{"   ", nil}, // ignored, as IRRd ignores empty lines
	}
	c := dial(t, ts.addr)
	for _, st := range steps {
		c.send(st.query)
		if st.want == nil {
			continue
		}
		got := c.reply()
		if got.Kind == whois.ReplyA && len(got.Data) == 0 {
			got.Data = []byte{}
		}
		want := *st.want
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: reply mismatch (-want +got):\n%s", st.query, diff)
		}
	}
	// The answers above must have come from data: guard against an empty fixture.
	if members(nil, "AS-TEST", true) == "" || routes(nil, 64496, false) == "" {
		t.Fatal("fixture answers are empty")
	}
	c.send("!q")
	c.expectEOF()
}

func ptr[T any](v T) *T { return &v }

// TestOneQueryThenClose checks IRRd's default: without "!!" the server answers one
// query and closes, even when the client pipelined more.
func TestOneQueryThenClose(t *testing.T) {
	ix := smallIndex(t)
	ts := startServer(t, ix, Options{})
	tests := []struct {
		name  string
		lines []string
		want  whois.Reply
	}{
		{"irrd query", []string{"!gas64496", "!gas64497"}, a("192.0.2.0/24 192.0.2.0/25")},
		{"error", []string{"!x", "!gas64497"}, replyF("Unrecognised command: x")},
		{"client name", []string{"!nfoo"}, replyC},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.send(tc.lines...)
			if diff := cmp.Diff(tc.want, c.reply()); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
			c.expectEOF()
		})
	}
}

// TestTextQueries checks RIPE-style queries as the whois CLI sends them (CRLF ended),
// answered as IRRd does: objects separated by blank lines, then "\n\n\n".
func TestTextQueries(t *testing.T) {
	ix := smallIndex(t)
	ts := startServer(t, ix, Options{})
	text := func(objs ...string) string { return strings.Join(objs, "\n") + "\n\n" }
	obj := func(srcs []string, key, class string) string {
		for _, o := range ix.Lookup(srcs, key) {
			if o.Class == class {
				return o.Text()
			}
		}
		t.Fatalf("fixture has no %s %s", class, key)
		return ""
	}
	smallTest := obj([]string{"TEST"}, "AS-SMALL", "as-set")
	smallTest2 := obj([]string{"TEST2"}, "AS-SMALL", "as-set")
	route24 := func(src string) string {
		for _, o := range ix.Lookup([]string{src}, "203.0.113.0/24") {
			return o.Text()
		}
		t.Fatal("no route")
		return ""
	}
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"as-set in both sources", "AS-SMALL", text(smallTest, smallTest2)},
		{"source flag", "-s TEST2 AS-SMALL", text(smallTest2)},
		{"flags as the whois client passes them", "-r -T as-set AS-SMALL", text(smallTest, smallTest2)},
		{"class filter excludes", "-T route AS-SMALL", whois.MsgNoEntries + "\n\n\n"},
		{"aut-num", "as64496", text(obj(nil, "AS64496", "aut-num"))},
		{"prefix", "203.0.113.0/24", text(route24("TEST"), route24("TEST2"))},
		{"address finds the most specific route", "-s TEST 203.0.113.200", text(route24("TEST"))},
		{"more specific search", "-s TEST2 -M 203.0.113.0/24", text(obj([]string{"TEST2"}, "203.0.113.128/25", "route"))},
		{"not found", "AS-NOPE", whois.MsgNoEntries + "\n\n\n"},
		{"unknown source", "-s NOPE AS-SMALL", "%% ERROR: One or more selected sources are unavailable.\n\n\n"},
		{"bad flag", "-Z AS-SMALL", "%% ERROR: Unrecognised flag/search: Z\n\n\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			io.WriteString(c.nc, tc.query+"\r\n")
			got, err := io.ReadAll(c.br)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("query %q:\ngot  %q\nwant %q", tc.query, got, tc.want)
			}
		})
	}
	// -k keeps the connection for a second query.
	c := dial(t, ts.addr)
	io.WriteString(c.nc, "-k -s TEST2 AS-SMALL\r\nAS-LOOP\r\n")
	want := text(smallTest2) + text(obj([]string{"TEST2"}, "AS-LOOP", "as-set"))
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c.br, buf); err != nil || string(buf) != want {
		t.Fatalf("-k session: %q, %v; want %q", buf, err, want)
	}
}

// TestMetrics checks the private registry counts queries by type, errors and
// connections, and serves them in the text format.
func TestMetrics(t *testing.T) {
	ts := startServer(t, smallIndex(t), Options{})
	c := dial(t, ts.addr)
	c.send("!!", "!gas64496", "!gas64497", "!z", "!q")
	c.reply()
	c.reply()
	c.reply()
	c.expectEOF()
	waitFor(t, "connection closed", 5*time.Second, func() bool { return ts.OpenConns() == 0 })
	rec := httptest.NewRecorder()
	ts.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`bgpfilter_whois_queries_total{type="routes"} 2`,
		`bgpfilter_whois_queries_total{type="invalid"} 1`,
		`bgpfilter_whois_query_errors_total{type="invalid"} 1`,
		`bgpfilter_whois_query_duration_seconds_count{type="routes"} 2`,
		`bgpfilter_whois_connections_total 1`,
		`bgpfilter_whois_open_connections 0`,
		`bgpfilter_whois_connections_closed_total{reason="quit"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	s := New(smallIndex(t), Options{})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err != nil {
		t.Fatalf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Serve after Shutdown left the listener open")
	}
}

func TestRemoveAuthHashes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mntner: X-MNT\nauth:           MD5-PW $1$abcdefgh$0123456789abcdef\nsource: TEST\n",
			"mntner: X-MNT\nauth:           MD5-PW DummyValue  # Filtered for security\nsource: TEST\n"},
		{"auth: bcrypt-pw $2b$12$xyz\n", "auth: bcrypt-pw DummyValue  # Filtered for security\n"},
		{"auth: CRYPT-PW abcdefghijklm\nauth: PGPKEY-0000\n", "auth: CRYPT-PW DummyValue  # Filtered for security\nauth: PGPKEY-0000\n"},
		{"as-set: AS-X\nmembers: AS1\n", "as-set: AS-X\nmembers: AS1\n"},
	}
	for _, tc := range tests {
		if got := RemoveAuthHashes(tc.in); got != tc.want {
			t.Errorf("RemoveAuthHashes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNoHashesServed: a mntner with a password hash is served with the hash removed.
func TestNoHashesServed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mnt.db")
	os.WriteFile(p, []byte("mntner: TEST-MNT\nauth: MD5-PW $1$saltsalt$hashhashhashhashhash\nmnt-by: TEST-MNT\nsource: TEST\n"), 0o644)
	ts := startServer(t, loadFixture(t, p), Options{})
	for _, q := range []string{"TEST-MNT", "!mmntner,TEST-MNT"} {
		c := dial(t, ts.addr)
		io.WriteString(c.nc, q+"\n")
		out, _ := io.ReadAll(c.br)
		if strings.Contains(string(out), "$1$") || !strings.Contains(string(out), "MD5-PW DummyValue") {
			t.Errorf("%s: hash not filtered: %q", q, out)
		}
	}
}
