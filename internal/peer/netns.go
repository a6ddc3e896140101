package peer

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// NetNS is a network namespace a test created, with lo up. It gives the tests what
// the root namespace cannot: more than one IPv6 address (the root has only ::1 on
// lo) and ports that no other process on the machine uses. Daemons started in it with
// Start are the program itself (ip netns exec execs it), so they are stopped by their
// own PID like every other Daemon; the namespace is deleted at cleanup, after them.
type NetNS struct {
	Name string
	ip   string
}

var netnsSeq atomic.Int64

// NewNetNS creates a namespace (named after the test process, so parallel runs never
// collide) with lo up and addrs (IPv4 or IPv6, no prefix length) on lo. It needs
// root and iproute2: outside CI their absence skips the test, under CI=true it fails.
func NewNetNS(t testing.TB, addrs ...string) *NetNS {
	t.Helper()
	ip := Require(t, "ip")
	if os.Geteuid() != 0 {
		Missing(t, "network namespaces need root")
	}
	n := &NetNS{Name: fmt.Sprintf("bgpf-%d-%d", os.Getpid(), netnsSeq.Add(1)), ip: ip}
	if out, err := exec.Command(ip, "netns", "add", n.Name).CombinedOutput(); err != nil {
		Missing(t, fmt.Sprintf("ip netns add: %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command(ip, "netns", "del", n.Name).Run() })
	n.IP(t, "link", "set", "lo", "up")
	for _, a := range addrs {
		p, err := netip.ParseAddr(a)
		if err != nil {
			t.Fatalf("peer: netns address %q: %v", a, err)
		}
		// IPv6 addresses on lo skip duplicate address detection (nodad), so they are
		// usable at once.
		args := []string{"addr", "add", netip.PrefixFrom(p, p.BitLen()).String(), "dev", "lo"}
		if p.Is6() {
			args = append(args, "nodad")
		}
		n.IP(t, args...)
	}
	return n
}

// IP runs "ip -n NAME args..." and fails the test on an error.
func (n *NetNS) IP(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(n.ip, append([]string{"-n", n.Name}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("peer: ip -n %s %v: %v\n%s", n.Name, args, err, out)
	}
}

// Start runs name inside the namespace like the package-level Start (stopped by PID
// at cleanup); n == nil runs it in the caller's namespace.
func (n *NetNS) Start(t testing.TB, name string, args ...string) *Daemon {
	t.Helper()
	if n == nil {
		return Start(t, name, args...)
	}
	d := Start(t, n.ip, append([]string{"netns", "exec", n.Name, name}, args...)...)
	d.Name = name
	return d
}

// Listening reports whether process pid has a TCP socket listening on port (IPv4 or
// IPv6), read from /proc/PID/net: that file shows the process's own namespace, so it
// answers for a daemon inside a NetNS, which a dial from the test cannot reach.
func Listening(pid, port int) bool {
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"tcp", "tcp6"} {
		fh, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "net", f))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// sl local_address rem_address st ...; st 0A is LISTEN.
			fs := strings.Fields(sc.Text())
			if len(fs) > 3 && strings.HasSuffix(fs[1], want) && fs[3] == "0A" {
				fh.Close()
				return true
			}
		}
		fh.Close()
	}
	return false
}

// StartStayRTR is the package-level StartStayRTR inside the namespace (n == nil: the
// caller's): stayrtr serves file on 127.0.0.1 of the namespace; it returns the RTR
// address once stayrtr listens.
func (n *NetNS) StartStayRTR(t testing.TB, file string, extra ...string) string {
	t.Helper()
	if n == nil {
		return StartStayRTR(t, file, extra...)
	}
	bin := Require(t, "stayrtr")
	port := FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"-bind", addr, "-metrics.addr", "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		"-cache", file, "-checktime=false", "-refresh", "1", "-loglevel", "info"}, extra...)
	d := n.Start(t, bin, args...)
	Eventually(t, "stayrtr listening in "+n.Name, 20*time.Second, func() bool { return Listening(d.Cmd.Process.Pid, port) }, d)
	return addr
}
