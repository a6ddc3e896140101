// Package peer finds and runs the real routing programs that bgpfilter's tests use as
// references (bgpq4, bird, FRR's bgpd, gobgpd, stayrtr, softflowd). Outside CI a
// missing program skips the test with a clear message; with CI=true it fails it, so a
// CI run can never go green by skipping its real peers.
package peer

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// InCI reports whether the tests run under CI (CI=true), where every peer is mandatory.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require returns the path of program name (looked up in PATH and then in extra
// directories such as /usr/lib/frr), or skips/fails the test when it is missing.
func Require(t testing.TB, name string, extraDirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range extraDirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, fmt.Sprintf("program %q not found (install it: sudo scripts/test.sh installs the Debian packages)", name))
	return ""
}

// FRRBgpd returns the path of FRR's bgpd. FRR installs it in /usr/lib/frr, off PATH,
// and OpenBGPD's daemon of the same name may be on PATH, so FRR's directory comes first.
func FRRBgpd(t testing.TB) string {
	t.Helper()
	const p = "/usr/lib/frr/bgpd"
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p
	}
	Missing(t, "FRR's bgpd not found in /usr/lib/frr (install the Debian package frr)")
	return ""
}

// OpenBGPD returns the path of OpenBGPD's bgpd (/usr/sbin/bgpd from Debian's openbgpd),
// checking that it is OpenBGPD and not another daemon called bgpd.
func OpenBGPD(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/bgpd", "/usr/local/sbin/bgpd"} {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		out, _ := exec.Command(p, "-V").CombinedOutput()
		if strings.Contains(strings.ToLower(string(out)), "openbgpd") {
			return p
		}
	}
	Missing(t, "OpenBGPD's bgpd not found (install the Debian package openbgpd)")
	return ""
}

// Missing skips the test outside CI and fails it under CI=true.
func Missing(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("required peer missing under CI: %s", why)
	}
	t.Skipf("skipping: %s", why)
}

// SharedData returns the path of a file under ../shared/data (relative to the repository
// root), or skips/fails the test when it is absent. rel is e.g. "irr/ripe.db.as-set.gz".
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	p := filepath.Join(root, "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		Missing(t, fmt.Sprintf("shared data %s not present", p))
	}
	return p
}

// GunzipLines returns the lines of a gzip file (shared data is stored gzipped), failing
// the test on any read error.
func GunzipLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// RepoRoot returns the repository root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("peer: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Daemon is a program a test started; Stop ends it by its PID.
type Daemon struct {
	Cmd  *exec.Cmd
	Name string
	// LogFile, when set, is a log file the daemon writes; Eventually shows it on failure.
	LogFile string
	log     *SyncBuffer
	done    chan struct{}
}

// Start runs a long-lived program and registers its stop (SIGTERM, then SIGKILL, by
// PID) with t.Cleanup. Its stdout and stderr are collected in Log.
func Start(t testing.TB, name string, args ...string) *Daemon {
	t.Helper()
	cmd := exec.Command(name, args...)
	log := &SyncBuffer{}
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = ownGroup()
	if err := cmd.Start(); err != nil {
		t.Fatalf("peer: start %s: %v", name, err)
	}
	d := &Daemon{Cmd: cmd, Name: name, log: log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(func() { d.Stop() })
	return d
}

// Output returns what the daemon has written to stdout and stderr so far.
func (d *Daemon) Output() string { return d.log.String() }

// Stop terminates the daemon by PID and waits for it (at most 5 s before SIGKILL).
func (d *Daemon) Stop() {
	if d.Cmd.Process == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.Cmd.Process.Kill()
		<-d.done
	}
}

// Exited reports whether the daemon has already ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// WaitTCP waits until addr accepts TCP connections or the timeout passes.
func WaitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peer: %s not listening after %s: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ASSetNames returns the as-set names of a gzipped RPSL dump (such as a SharedData
// path), in file order.
func ASSetNames(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("peer: %s: %v", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var names []string
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "as-set:"); ok {
			names = append(names, strings.TrimSpace(name))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("peer: %s: %v", path, err)
	}
	return names
}
