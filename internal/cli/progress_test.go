package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/bgpfilter/bgpfilter/internal/peer"
)

// TestNoProgressWithoutTerminal: a pipeline (stderr not a TTY) gets no progress line.
func TestNoProgressWithoutTerminal(t *testing.T) {
	db := filepath.Join(peer.RepoRoot(t), "examples", "irr")
	var stdout, stderr bytes.Buffer
	if code := Run(context.Background(), []string{"bgpfilter", "--irr", db, "expand", "AS-EXAMPLE"}, &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "\r") {
		t.Errorf("progress drawn on a non-terminal stderr: %q", stderr.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code := Run(context.Background(), []string{"bgpfilter", "--irr", db, "expand", "AS-EXAMPLE"}, &stdout, f); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	b, _ := os.ReadFile(f.Name())
	if strings.Contains(string(b), "\r") {
		t.Errorf("progress drawn into a regular file: %q", b)
	}
}

// openPTY opens a pseudo-terminal pair (master, slave) with plain syscalls.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		peer.Missing(t, "no /dev/ptmx: "+err.Error())
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("TIOCGPTN: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestReportProgressOnTerminal: reading a real MRT RIB (RIS bview, 2002) with stderr on
// a terminal draws the progress line (percentage, MB, routes parsed) and clears it at
// the end; with stderr a file the same run writes no progress at all.
func TestReportProgressOnTerminal(t *testing.T) {
	rib := peer.SharedData(t, "mrt/ris.bview.20020722.2337.gz")
	db := filepath.Join(peer.RepoRoot(t), "examples", "irr")
	args := []string{"bgpfilter", "--irr", db, "report", "AS-EXAMPLE", "--announcements", rib}
	m, s := openPTY(t)
	defer m.Close()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(m); got <- b }() // EIO once the slave is closed
	var stdout bytes.Buffer
	code := Run(context.Background(), args, &stdout, s)
	s.Close()
	tty := string(<-got)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, tty)
	}
	line := regexp.MustCompile(`\rreading [^:]+ris\.bview\.20020722\.2337\.gz: +(\d+)% \(\d+\.\d of 1\.2 MB\), (\d+k?) routes`)
	draws := line.FindAllStringSubmatch(tty, -1)
	if len(draws) == 0 {
		t.Fatalf("no progress line on the terminal: %q", tty)
	}
	if !strings.HasSuffix(tty, "\r\033[K") {
		t.Errorf("progress line not cleared at the end: %q", tty[max(0, len(tty)-80):])
	}
	if !strings.Contains(stdout.String(), "MANRS readiness: AS-EXAMPLE") {
		t.Errorf("report missing on stdout: %q", stdout.String())
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout.Reset()
	if code := Run(context.Background(), args, &stdout, f); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if b, _ := os.ReadFile(f.Name()); len(b) != 0 {
		t.Errorf("stderr a file: got %q, want nothing", b)
	}
}
