package peer

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ExaSegment is one AS_PATH segment (RFC 4271 §4.3) ExaBGP sends: an AS_SET when Set,
// an AS_SEQUENCE otherwise, ASNs left-most first.
type ExaSegment struct {
	Set  bool
	ASNs []uint32
}

// ExaRoute is one announcement: the AS_PATH is exactly Path, as the receiving router
// sees it (ExaBGP prepends nothing), which gobgpd cannot do (it always prepends its
// own AS). An empty Path sends an empty AS_PATH.
type ExaRoute struct {
	Prefix  netip.Prefix
	NextHop netip.Addr
	Path    []ExaSegment
}

// PathHex is the AS_PATH attribute's value in hex, four-octet ASNs (both routers of
// the tests negotiate them), sequences longer than 255 split as RFC 4271 says.
func (r ExaRoute) PathHex() string {
	var b []byte
	for _, s := range r.Path {
		typ := byte(2)
		if s.Set {
			typ = 1
		}
		for rest := s.ASNs; len(rest) > 0; {
			n := min(len(rest), 255)
			b = append(b, typ, byte(n))
			for _, a := range rest[:n] {
				b = binary.BigEndian.AppendUint32(b, a)
			}
			rest = rest[n:]
		}
	}
	return hex.EncodeToString(b)
}

// ExaNeighbor is one session of an ExaBGP speaker: it connects from Local to the
// router at Address:Port (AS) and announces Routes over the family of Address.
type ExaNeighbor struct {
	Address, Local string
	Port           int
	AS             uint32
	Routes         []ExaRoute
}

// V6 reports whether the session is IPv6 (its routes IPv6 unicast).
func (n ExaNeighbor) V6() bool { return strings.Contains(n.Address, ":") }

// ExaBGPConfig is the speaker StartExaBGP runs: AS, router ID and its sessions.
type ExaBGPConfig struct {
	AS        uint32
	RouterID  string
	Neighbors []ExaNeighbor
}

// StartExaBGP writes c as dir/exabgp.conf and runs ExaBGP on it in n (nil: the
// caller's namespace, where every address must be loopback), stopped by PID at
// cleanup. ExaBGP is the active side of every session and does not listen, so start
// the routers first. It requires exabgp (ExaBGP 4).
func (n *NetNS) StartExaBGP(t testing.TB, dir string, c ExaBGPConfig) *Daemon {
	t.Helper()
	bin := Require(t, "exabgp", "/usr/sbin")
	for _, nb := range c.Neighbors {
		if n == nil {
			requireLoopback(t, nb.Address, nb.Local)
		}
		for _, r := range nb.Routes {
			if r.Prefix.Addr().Is6() != nb.V6() || r.NextHop.Is6() != nb.V6() {
				t.Fatalf("peer: exabgp: route %s next hop %s on the session to %s: wrong family", r.Prefix, r.NextHop, nb.Address)
			}
		}
	}
	var b strings.Builder
	if err := confTemplates.ExecuteTemplate(&b, "exabgp.conf.tmpl", c); err != nil {
		t.Fatalf("peer: exabgp.conf: %v", err)
	}
	path := filepath.Join(dir, "exabgp.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("peer: %v", err)
	}
	// Run as root ExaBGP would switch to user exabgp; it must not listen on :179 nor
	// create its CLI pipes under /run.
	args := []string{"exabgp.daemon.user=root", "exabgp.daemon.drop=false", "exabgp.daemon.daemonize=false",
		"exabgp.tcp.bind=", "exabgp.api.cli=false", "exabgp.log.level=WARNING", bin, path}
	d := n.Start(t, "/usr/bin/env", args...)
	d.Name = fmt.Sprintf("exabgp AS%d", c.AS)
	return d
}
