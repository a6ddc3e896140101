package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"
)

// TestFlagNamesCached: the app with the names-cached global flags (cachedNames) and
// the same app with urfave/cli's own flag values print the same help and read the
// same values, IsSet answers and environment variables, for flags given in long,
// short and "=" form and from the environment.
func TestFlagNamesCached(t *testing.T) {
	t.Setenv("BGPFILTER_SOURCES", "RIPE,ARIN")
	t.Setenv("BGPFILTER_LOG_FORMAT", "json")
	build := func(cached bool) (*ucli.App, *bytes.Buffer) {
		var out bytes.Buffer
		app := NewApp(&out, &out)
		if !cached {
			app.Flags = append(append(globalFlags(), remoteFlags()...), rpkiFlags()...)
		}
		app.Commands = append(app.Commands, &ucli.Command{Name: "probe", Action: func(c *ucli.Context) error {
			for _, f := range c.App.Flags {
				n := f.Names()
				fmt.Fprintf(&out, "%v set=%v value=%v\n", n, c.IsSet(n[0]), c.Generic(n[0]))
			}
			return nil
		}})
		return app, &out
	}
	plain, _ := build(false)
	if len(plain.Flags) < 15 {
		t.Fatalf("only %d global flags", len(plain.Flags))
	}
	for _, args := range [][]string{
		{"--help"}, {"bgpq4", "--help"}, {"prefix-list", "--help"}, {"probe"},
		{"--quiet", "--irr", "a.db", "--irr=b.db", "--timeout", "5s", "probe"},
		{"-q", "--verbose", "--sources", "RADB", "--strict", "probe"},
		{"--no-such-flag", "probe"},
	} {
		var outs [2]string
		var codes [2]error
		for i, cached := range []bool{true, false} {
			app, out := build(cached)
			codes[i] = app.RunContext(context.Background(), append([]string{"bgpfilter"}, args...))
			outs[i] = out.String()
		}
		if outs[0] != outs[1] || fmt.Sprint(codes[0]) != fmt.Sprint(codes[1]) {
			t.Errorf("bgpfilter %s: cached names: %v\n%s\n--- urfave/cli's own:\n%v\n%s", strings.Join(args, " "), codes[0], outs[0], codes[1], outs[1])
		}
		if args[len(args)-1] == "probe" && args[0] != "--no-such-flag" && !strings.Contains(outs[0], "[sources] set=true") {
			t.Errorf("bgpfilter %s: the probe did not run or saw no --sources:\n%s", strings.Join(args, " "), outs[0])
		}
	}
	app, _ := build(true)
	if _, ok := app.Flags[0].(*namedStringSlice); !ok {
		t.Errorf("the first global flag is %T, not names-cached", app.Flags[0])
	}
}
