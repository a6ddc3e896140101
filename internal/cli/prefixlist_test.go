package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/render"
)

const policyDB = "../../policy/testdata/policy.db"

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"bgpfilter", "--quiet", "--irr", policyDB}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPrefixListCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // exact, when set
		contains string // in stdout, when set
		stderr   string // in stderr, when set
	}{
		{name: "bird v6 flags after object", args: []string{"prefix-list", "AS-EXAMPLE", "-6", "--format", "bird"},
			stdout: "define AS_EXAMPLE = [\n    2001:db8:1000::/48,\n    2001:db8:1001::/48,\n    2001:db8:2000::/40\n];\n"},
		{name: "combined short flags after object", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "-6A", "-l", "X"},
			stdout: "no ipv6 prefix-list X\nipv6 prefix-list X permit 2001:db8:1000::/47 ge 48 le 48\nipv6 prefix-list X permit 2001:db8:2000::/40\n"},
		{name: "flags before and after", args: []string{"prefix-list", "-A", "--format", "frr", "AS-EXAMPLE", "--more-specifics", "24", "--name", "CUST"},
			stdout: "no ip prefix-list CUST\nip prefix-list CUST seq 5 permit 192.0.2.0/24 le 25\nip prefix-list CUST seq 10 permit 198.18.0.0/15 ge 16 le 24\n"},
		{name: "-- ends flags", args: []string{"prefix-list", "--format", "json", "--", "AS-EXAMPLE"}, contains: `"name": "AS-EXAMPLE"`},
		{name: "empty set denies all", args: []string{"prefix-list", "--format", "frr", "AS-EMPTY"},
			stdout: "no ip prefix-list AS-EMPTY\n! prefix-list AS-EMPTY is empty: deny everything\nip prefix-list AS-EMPTY seq 5 deny any\n"},
		{name: "explain on stderr", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "--explain", "-A"},
			contains: "permit 198.18.0.0/15 ge 16 le 16", stderr: "via: AS-EXAMPLE > AS-CUST > AS64498"},
		{name: "unknown object", args: []string{"prefix-list", "--format", "ios", "AS-NOPE"}, code: 2, stdout: "-", stderr: "AS-NOPE"},
		{name: "missing member fails on request", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "--fail-on-missing"}, code: 2, stdout: "-", stderr: "AS-GONE"},
		// A --name the user typed is a usage error (1); a name or range the data brings
		// that the vendor cannot hold is a data error (2) (issue 12 item 14).
		{name: "invalid name", args: []string{"prefix-list", "--format", "junos", "AS-EXAMPLE", "--name", "x; } then accept;"}, code: 1, stdout: "-", stderr: "invalid name"},
		{name: "junos prefix-list cannot hold a range from the data", args: []string{"prefix-list", "--format", "junos", "RS-EXAMPLE"}, code: 2, stdout: "-", stderr: "cannot carry length ranges"},
		{name: "no derivable name", args: []string{"prefix-list", "--format", "bird", "198.51.100.0/24"}, code: 2, stdout: "-", stderr: "use --name"},
		{name: "junos prefix-list cannot aggregate", args: []string{"prefix-list", "--format", "junos", "-A", "AS-EXAMPLE"}, code: 1, stdout: "-", stderr: "junos-route-filter"},
		{name: "no format", args: []string{"prefix-list", "AS-EXAMPLE"}, code: 1, stdout: "-", stderr: "--format is required"},
		{name: "unknown format", args: []string{"prefix-list", "--format", "cisco", "AS-EXAMPLE"}, code: 1, stdout: "-"},
		{name: "both families", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "-4", "-6"}, code: 1, stdout: "-"},
		{name: "bad length", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "-R", "33"}, code: 1, stdout: "-"},
		{name: "unknown flag after object", args: []string{"prefix-list", "--format", "ios", "AS-EXAMPLE", "--bogus"}, code: 1, stdout: "-"},
		{name: "no object", args: []string{"prefix-list", "--format", "ios"}, code: 1, stdout: "-"},
		{name: "missing template dir", args: []string{"prefix-list", "--format", "ios", "--template-dir", "/nonexistent", "AS-EXAMPLE"}, code: 1, stdout: "-"},
		{name: "as-path frr peer", args: []string{"as-path", "AS-EXAMPLE", "--format", "frr", "--peer-as", "AS64496", "--keep-private"},
			stdout: "! replace AS-EXAMPLE: FRR refuses \"no\" for a list that does not exist, so make sure it does\nbgp as-path access-list AS-EXAMPLE seq 1 deny .*\nno bgp as-path access-list AS-EXAMPLE\nbgp as-path access-list AS-EXAMPLE seq 5 permit ^64496(_64496)*$\nbgp as-path access-list AS-EXAMPLE seq 10 permit ^64496(_[0-9]+)*_(64497|64498)$\n"},
		{name: "as-path bird", args: []string{"as-path", "--format", "bird", "AS-CUST", "--keep-private"},
			stdout: "define AS_CUST = [\n    64496, 64497, 64498\n];\n"},
		{name: "as-path unknown", args: []string{"as-path", "--format", "ios", "AS-NOPE"}, code: 2, stdout: "-"},
		{name: "as-path bad peer", args: []string{"as-path", "--format", "ios", "AS-EXAMPLE", "--peer-as", "AS0"}, code: 1, stdout: "-"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errs)
			}
			switch {
			case tc.stdout == "-" && out != "":
				t.Errorf("stdout not empty on error: %q", out)
			case tc.stdout != "" && tc.stdout != "-" && out != tc.stdout:
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.stdout)
			}
			if tc.contains != "" && !strings.Contains(out, tc.contains) {
				t.Errorf("stdout lacks %q:\n%s", tc.contains, out)
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, errs)
			}
		})
	}
}

// TestHostileNamesEveryFormat: a --name that would inject config is refused with exit 1
// (the user's argument, a usage error) and nothing on stdout, for every format and both commands.
func TestHostileNamesEveryFormat(t *testing.T) {
	for _, format := range render.Formats() {
		for _, name := range []string{"x; } then accept;", "x\nip prefix-list y permit any", `a"b`, "x];", "a b"} {
			for _, cmd := range []string{"prefix-list", "as-path"} {
				code, out, _ := runCLI(t, cmd, "--format", format, "--name", name, "AS-EXAMPLE")
				if code != ExitUsage || out != "" {
					t.Errorf("%s --format %s --name %q: exit %d, stdout %q", cmd, format, name, code, out)
				}
			}
		}
	}
}

func TestOutputKeptOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.conf")
	if err := os.WriteFile(path, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"prefix-list", "--format", "ios", "--output", path, "AS-NOPE"},
		{"prefix-list", "--format", "ios", "--output", path, "AS-EXAMPLE", "--name", "bad name"},
		{"prefix-list", "--format", "junos", "--output", path, "AS-EXAMPLE", "-A"},
	} {
		if code, _, _ := runCLI(t, args...); code == 0 {
			t.Fatalf("%q succeeded", args)
		}
		if b, _ := os.ReadFile(path); string(b) != "previous\n" {
			t.Fatalf("%q changed the output file to %q", args, b)
		}
	}
	code, out, errs := runCLI(t, "prefix-list", "AS-EXAMPLE", "--format", "ios", "-o", path, "-A")
	if code != 0 || out != "" {
		t.Fatalf("exit %d stdout %q stderr %s", code, out, errs)
	}
	want := "no ip prefix-list AS-EXAMPLE\nip prefix-list AS-EXAMPLE permit 192.0.2.0/24 le 25\nip prefix-list AS-EXAMPLE permit 198.18.0.0/15 ge 16 le 16\nip prefix-list AS-EXAMPLE permit 198.18.5.0/24\n"
	if b, _ := os.ReadFile(path); string(b) != want {
		t.Errorf("output file:\n%s\nwant:\n%s", b, want)
	}
}

// FuzzPermuteArgs: whatever the arguments, permuteArgs does not panic, every object it
// returns is one of the arguments, and no returned object looks like a known flag.
func FuzzPermuteArgs(f *testing.F) {
	for _, s := range []string{"AS-FOO\x00-6", "-6A\x00AS1", "AS1\x00--\x00-6", "AS1\x00-m\x0024", "AS1\x00-m", "-R=24\x00x", "\x00-\x00--x"} {
		f.Add(s)
	}
	cmd := prefixListCommand()
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		var objects []string
		app := NewApp(io.Discard, io.Discard)
		app.Commands = []*ucli.Command{{Name: "prefix-list", Flags: cmd.Flags, Action: func(c *ucli.Context) error {
			var err error
			objects, err = permuteArgs(c, cmd.Flags)
			return err
		}}}
		if app.RunContext(context.Background(), append([]string{"bgpfilter", "prefix-list"}, args...)) != nil {
			return
		}
		seen := map[string]bool{}
		for _, a := range args {
			seen[a] = true
		}
		for _, o := range objects {
			if !seen[o] {
				t.Fatalf("object %q not among the arguments %q", o, args)
			}
		}
	})
}

// TestPermuteArgsRepeatableAfterObject: a repeatable flag given after OBJECT keeps each
// value (not the "[a b]" text of the slice), together with the values given before it.
func TestPermuteArgsRepeatableAfterObject(t *testing.T) {
	flags := []ucli.Flag{
		&ucli.StringSliceFlag{Name: "announcements", Aliases: []string{"a"}},
		&ucli.IntSliceFlag{Name: "n"},
		&ucli.StringFlag{Name: "format"},
	}
	for _, tc := range []struct {
		args    []string
		objects []string
		ann     []string
		n       []int
	}{
		{[]string{"AS64496", "--announcements", "x.mrt", "-a", "y.txt"}, []string{"AS64496"}, []string{"x.mrt", "y.txt"}, nil},
		{[]string{"-a", "w.gz", "AS64496", "-a", "x.mrt", "AS-FOO", "-a", "y,z"}, []string{"AS64496", "AS-FOO"}, []string{"w.gz", "x.mrt", "y", "z"}, nil},
		{[]string{"AS64496", "--n", "1", "--n", "22", "--format", "json"}, []string{"AS64496"}, nil, []int{1, 22}},
		{[]string{"AS64496", "-a", "[a b]"}, []string{"AS64496"}, []string{"[a b]"}, nil},
	} {
		var objects, ann []string
		var n []int
		app := NewApp(io.Discard, io.Discard)
		app.Commands = []*ucli.Command{{Name: "report", Flags: flags, Action: func(c *ucli.Context) error {
			var err error
			objects, err = permuteArgs(c, flags)
			ann, n = c.StringSlice("announcements"), c.IntSlice("n")
			return err
		}}}
		if err := app.RunContext(context.Background(), append([]string{"bgpfilter", "report"}, tc.args...)); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if !slices.Equal(objects, tc.objects) || !slices.Equal(ann, tc.ann) || !slices.Equal(n, tc.n) {
			t.Errorf("%q: objects %q announcements %q n %v; want %q %q %v", tc.args, objects, ann, n, tc.objects, tc.ann, tc.n)
		}
	}
}
