package cli

import (
	"os"
	"path/filepath"

	"strings"
	"syscall"
	"testing"
)

// oldFile writes "OLD\n" to dir/name and returns the path.
func oldFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("OLD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func wantOld(t *testing.T, what, path string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != "OLD\n" {
		t.Errorf("%s: %s = %q, %v; want the previous file untouched", what, path, b, err)
	}
}

// TestSummaryFailureKeepsOutput: when --summary-json cannot be written, --output is not
// replaced either (both are written to temporary files first, issue 12 item 3).
func TestSummaryFailureKeepsOutput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary func(dir string) string
	}{
		{"no such directory", func(dir string) string { return filepath.Join(dir, "no", "such", "s.json") }},
		{"a directory", func(dir string) string {
			p := filepath.Join(dir, "isdir")
			os.Mkdir(p, 0o755)
			return p
		}},
	} {
		for _, cmd := range [][]string{
			{"prefix-list", "--format", "ios", "AS-RPKI"},
			{"as-path", "--format", "frr", "--keep-private", "AS-RPKI"},
		} {
			dir := t.TempDir()
			out := oldFile(t, dir, "out.conf")
			code, _, errs := runRPKICLI(t, append(cmd, "--output", out, "--summary-json", tc.summary(dir))...)
			if code != ExitUsage || !strings.Contains(errs, "--summary-json") {
				t.Errorf("%s %s: exit %d, stderr %q; want %d naming --summary-json", tc.name, cmd[0], code, errs, ExitUsage)
			}
			wantOld(t, tc.name+" "+cmd[0], out)
		}
	}
}

// TestOutputAndSummarySameFile: --output and --summary-json naming one file (also
// spelled differently or through a symlink) is a usage error that writes nothing.
func TestOutputAndSummarySameFile(t *testing.T) {
	dir := t.TempDir()
	out := oldFile(t, dir, "out.conf")
	link := filepath.Join(dir, "link.conf")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}
	for _, sj := range []string{out, filepath.Join(dir, ".", "out.conf"), link} {
		code, _, errs := runRPKICLI(t, "prefix-list", "--format", "ios", "--output", out, "--summary-json", sj, "AS-RPKI")
		if code != ExitUsage || !strings.Contains(errs, "same file") {
			t.Errorf("--summary-json %s: exit %d, stderr %q; want %d", sj, code, errs, ExitUsage)
		}
		wantOld(t, sj, out)
	}
}

// TestBadFlagAfterObjectsWritesSummary: a flag refused after the objects ("-R 24x")
// replaces the previous run's "ok" summary with a failure summary, and every other
// usage error writes one too (issue 12 items 3, 15).
func TestBadFlagAfterObjectsWritesSummary(t *testing.T) {
	dir := t.TempDir()
	sj := filepath.Join(dir, "s.json")
	for _, args := range [][]string{
		{"prefix-list", "--format", "ios", "--summary-json", sj, "AS-RPKI", "-R", "24x"},
		{"prefix-list", "--summary-json", sj, "AS-RPKI"},              // no --format
		{"prefix-list", "--summary-json", sj, "-R", "24x", "AS-RPKI"}, // refused by the flag parser before the objects
		{"prefix-list", "--summary-json", sj, "--format", "ios", "-4", "-6", "AS-RPKI"},
		{"as-path", "--format", "frr", "--summary-json", sj, "AS-RPKI", "--peer-as", "x"},
		{"as-path", "--format", "frr", "AS-RPKI", "--summary-json", sj, "--nosuchflag"},
	} {
		code, _, errs := runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "--summary-json", sj, "AS-RPKI")
		if d := readSummary(t, sj); code != 0 || d.Status != "ok" {
			t.Fatalf("ok run: exit %d %s %+v", code, errs, d)
		}
		code, _, _ = runRPKICLI(t, append([]string{"--quiet"}, args...)...)
		d := readSummary(t, sj)
		if code != ExitUsage || d.Status != "error" || d.ExitCode != ExitUsage || d.Error == "" || d.Command != args[0] {
			t.Errorf("%q: exit %d, summary %+v; want a failure summary with exit %d", args, code, d, ExitUsage)
		}
	}
}

// TestOutputKeepsModeAndOwner: replacing --output keeps the previous file's mode and,
// as root, its owner (issue 12 item 16).
func TestOutputKeepsModeAndOwner(t *testing.T) {
	dir := t.TempDir()
	out := oldFile(t, dir, "out.conf")
	if err := os.Chmod(out, 0o640); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		if err := os.Chown(out, 4242, 4343); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errs := runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "--output", out, "AS-RPKI")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), "ip prefix-list") {
		t.Errorf("output not written: %q", b)
	}
	if !root {
		t.Log("not root: owner not checked")
		return
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 4242 || sys.Gid != 4343 {
		t.Errorf("owner %d:%d, want 4242:4343", sys.Uid, sys.Gid)
	}
	// A new file gets the default mode.
	fresh := filepath.Join(dir, "fresh.conf")
	if code, _, _ := runRPKICLI(t, "--quiet", "prefix-list", "--format", "ios", "--output", fresh, "AS-RPKI"); code != 0 {
		t.Fatal(code)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v, want 0644", st.Mode().Perm())
	}
}

// TestMaxDepthMaxSizeOnFilters: --max-depth and --max-size bound prefix-list and
// as-path as they bound expand (issue 12 item 16).
func TestMaxDepthMaxSizeOnFilters(t *testing.T) {
	edge := filepath.Join("..", "..", "irr", "testdata", "edge.db")
	for _, cmd := range []string{"prefix-list", "as-path"} {
		code, _, errs := runRPKICLI(t, "--irr", edge, cmd, "--format", "frr", "AS-L1", "--max-depth", "2")
		if code != ExitData || !strings.Contains(errs, "nesting deeper than 2") {
			t.Errorf("%s --max-depth 2: exit %d, %q", cmd, code, errs)
		}
		code, _, errs = runRPKICLI(t, "--irr", edge, cmd, "--format", "frr", "--max-size", "1", "AS-L1")
		if code != ExitData || !strings.Contains(errs, "more than 1 entries") {
			t.Errorf("%s --max-size 1: exit %d, %q", cmd, code, errs)
		}
		if code, _, errs = runRPKICLI(t, "--irr", edge, cmd, "--format", "frr", "--keep-private", "AS-L1"); code != 0 && cmd == "as-path" {
			t.Errorf("%s without limits: exit %d, %q", cmd, code, errs)
		}
	}
}
