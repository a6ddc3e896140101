package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/render"
)

// TestUnknownCommandIsUsage: a typo in a (sub)command is a usage error (1), not exit 3
// ("source unavailable", which a wrapper retries); urfave/cli's own help-topic error
// carries 3 (issue 12 item 14). Run is what main calls.
func TestUnknownCommandIsUsage(t *testing.T) {
	for _, args := range [][]string{{"prefix-lst"}, {"rpki", "validat"}, {"--quiet", "nosuch", "AS-EXAMPLE"}} {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"bgpfilter"}, args...), &out, &errb)
		typo := args[len(args)-1]
		if len(args) == 3 {
			typo = args[1]
		}
		if code != ExitUsage || !strings.Contains(errb.String(), typo) {
			t.Errorf("%q: exit %d, want %d; stderr %q", args, code, ExitUsage, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"bgpfilter"}, &out, &errb); code != ExitOK || !strings.Contains(out.String(), "prefix-list") {
		t.Errorf("no command: exit %d, stdout %q", code, out.String())
	}
}

// TestExitCodeMapping pins the one error-to-code mapping: an explicit code wins over the
// sentinel it wraps, sentinels decide otherwise, and the caller's fallback covers the rest.
func TestExitCodeMapping(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("ctx: %w", err) }
	for _, tc := range []struct {
		name     string
		err      error
		fallback int
		want     int
	}{
		{"nil", nil, ExitUsage, ExitOK},
		{"explicit wins", exitErr(ExitUsage, wrap(render.ErrInvalidName)), ExitData, ExitUsage},
		{"name from the data", wrap(render.ErrInvalidName), ExitUsage, ExitData},
		{"unknown object", wrap(policy.ErrUnknownObject), ExitUsage, ExitData},
		{"invalid option", wrap(policy.ErrInvalidOption), ExitData, ExitUsage},
		{"unavailable", wrap(irr.ErrUnavailable), ExitData, ExitUnavailable},
		{"deadline", wrap(context.DeadlineExceeded), ExitData, ExitUnavailable},
		{"unclassified", errors.New("x"), ExitData, ExitData},
		{"unclassified usage", errors.New("x"), ExitUsage, ExitUsage},
	} {
		if got := exitCode(tc.err, tc.fallback); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}
