package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/internal/peer"
	"github.com/bgpfilter/bgpfilter/internal/whoistest"
	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irr/rpsl"
	"github.com/bgpfilter/bgpfilter/render"
	"github.com/bgpfilter/bgpfilter/whoisd"
)

// serveFile starts bgpfilter's whois server on the data of path and returns its
// address and the set names in the file.
func serveFile(t *testing.T, path string) (string, []string) {
	t.Helper()
	ix, _, err := irr.Load(context.Background(), []string{path}, irr.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := whoistest.Serve(t, ix, whoisd.Options{})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sets []string
	sc := rpsl.NewScanner(f, path)
	for {
		o, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			continue // a malformed object; the scanner has moved past it
		}
		if o.Class == "as-set" || o.Class == "route-set" {
			sets = append(sets, o.Key)
		}
	}
	slices.Sort(sets)
	return addr, slices.Compact(sets)
}

var routeSources = regexp.MustCompile(`"sources":\[[^\]]*\]`)

// TestRemoteEqualsLocalCLI is the command-level differential test: for the core case
// matrix (commands × formats × flags × objects of irr/testdata/edge.db and
// examples/irr/example.db) `--irr whois://<bgpfilter whois-server>` prints the same
// bytes and exits with the same status as `--irr FILE`.
func TestRemoteEqualsLocalCLI(t *testing.T) {
	root := peer.RepoRoot(t)
	total := 0
	for _, file := range []string{filepath.Join(root, "irr/testdata/edge.db"), filepath.Join(root, "examples/irr/example.db")} {
		addr, sets := serveFile(t, file)
		objects := append(slices.Clone(sets), "AS64496", "AS-NOT-THERE")
		var cases [][]string
		for _, o := range objects {
			for _, f := range render.Formats() {
				cases = append(cases, []string{"prefix-list", "--format", f, "--name", "X", o})
			}
			cases = append(cases,
				[]string{"prefix-list", "--format", "junos", "--name", "X", "-6", o},
				[]string{"prefix-list", "--format", "bird", "--name", "X", "--aggregate", o},
				[]string{"prefix-list", "--format", "ios", "--name", "X", "--more-specifics", "28", "--max-length", "27", o},
				[]string{"as-path", "--format", "junos", "--name", "X", o},
				[]string{"as-path", "--format", "junos", "--name", "X", "--keep-private", o},
				[]string{"as-path", "--format", "bird", "--name", "X", "--peer-as", "64496", "--keep-private", o},
				[]string{"expand", o},
				[]string{"expand", "--json", o},
				[]string{"expand", "--tree", o},
				[]string{"bgpq4", "-J", o},
				[]string{"bgpq4", "-6", "-b", o},
				[]string{"bgpq4", "-f", "64496", o},
				[]string{"bgpq4", "-L", "2", "-X", o},
			)
		}
		for _, src := range []string{"EDGE,ALT", "ALT", "EXAMPLE"} {
			cases = append(cases, []string{"--sources", src, "prefix-list", "--format", "json", "--name", "X", objects[0]})
		}
		for _, args := range cases {
			global, cmd := []string{}, args
			if args[0] == "--sources" {
				global, cmd = args[:2], args[2:]
			}
			lcode, lout, lerr := remoteRun(t, append(append([]string{"--quiet", "--irr", file}, global...), cmd...)...)
			rcode, rout, rerr := remoteRun(t, append(append([]string{"--quiet", "--irr", "whois://" + addr}, global...), cmd...)...)
			if slices.Contains(args, "json") {
				// Provenance: the local Index names the source of every route
				// (RouteSources); IRRd's "!g" answers carry no source, so a remote
				// run leaves "sources" empty. Everything else must match.
				lout = routeSources.ReplaceAllString(lout, `"sources":[]`)
			}
			if lcode != rcode || lout != rout {
				t.Errorf("%s: local exit %d, remote exit %d\nlocal:  %q\nremote: %q\nstderr: %q / %q",
					strings.Join(args, " "), lcode, rcode, lout, rout, lerr, rerr)
			}
			total++
		}
	}
	t.Logf("%d command invocations: --irr whois:// == --irr FILE, byte for byte", total)
}
