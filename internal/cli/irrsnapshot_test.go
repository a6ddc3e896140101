package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// runWithSnapshot runs the app with the irr-snapshot command added (until app.go
// registers it) and returns the exit code and stdout, as Run does.
func runWithSnapshot(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := NewApp(&out, &errb)
	app.Commands = append(app.Commands, irrSnapshotCommand())
	err := app.RunContext(context.Background(), append([]string{"bgpfilter", "--quiet"}, args...))
	code := ExitOK
	if err != nil {
		code = ExitUsage
		var ec ucli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
	}
	return code, out.String()
}

// TestIRRSnapshotCommand: a snapshot of the policy fixture gives every command the same
// output as the RPSL file it was made from.
func TestIRRSnapshotCommand(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "policy.snap")
	if code, _ := runWithSnapshot(t, "--irr", policyDB, "irr-snapshot", "--output", snap); code != ExitOK {
		t.Fatalf("irr-snapshot exit %d", code)
	}
	for _, args := range [][]string{
		{"prefix-list", "--format", "ios", "AS-EXAMPLE"},
		{"prefix-list", "--format", "bird", "-6", "AS-EXAMPLE"},
		{"bgpq4", "-A", "AS-EXAMPLE"},
		{"expand", "AS-EXAMPLE"},
	} {
		c1, want := runWithSnapshot(t, append([]string{"--irr", policyDB}, args...)...)
		c2, got := runWithSnapshot(t, append([]string{"--irr", snap}, args...)...)
		if c1 != c2 || got != want || want == "" {
			t.Errorf("%v: exit %d/%d, RPSL output %q, snapshot output %q", args, c1, c2, want, got)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"no output", []string{"--irr", policyDB, "irr-snapshot"}, ExitUsage},
		{"remote irr", []string{"--irr", "whois://127.0.0.1:1", "irr-snapshot", "-o", snap + "2"}, ExitUsage},
	} {
		if code, _ := runWithSnapshot(t, tc.args...); code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, code, tc.code)
		}
	}
}
