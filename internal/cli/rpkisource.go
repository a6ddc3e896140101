package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/rpki"
	"github.com/bgpfilter/bgpfilter/rpki/rtr"
)

// rpkiFlags are the global flags that qualify --rpki. The lead adds them to
// globalFlags().
func rpkiFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "slurm", EnvVars: []string{"BGPFILTER_SLURM"},
			Usage: "SLURM file (RFC 8416) with local RPKI exceptions, applied to --rpki data"},
		&ucli.DurationFlag{Name: "rpki-max-age", EnvVars: []string{"BGPFILTER_RPKI_MAX_AGE"},
			Usage: "refuse RPKI data built longer ago than this (e.g. 2h; 0 = no limit)"},
		&ucli.StringSliceFlag{Name: "rpki-ta", EnvVars: []string{"BGPFILTER_RPKI_TA"},
			Usage: "use only VRPs of these trust anchors (e.g. ripe,arin); repeatable"},
		&ucli.BoolFlag{Name: "rpki-ignore-expiry", EnvVars: []string{"BGPFILTER_RPKI_IGNORE_EXPIRY"},
			Usage: "keep VRPs/ASPAs whose \"expires\" time has passed (for replaying old data)"},
		&ucli.BoolFlag{Name: "rpki-allow-empty", EnvVars: []string{"BGPFILTER_RPKI_ALLOW_EMPTY"},
			Usage: "accept RPKI data without any usable VRP (otherwise refused: drop-invalid would drop nothing)"},
	}
}

// rpkiOptions builds the loader options from the flags.
func rpkiOptions(c *ucli.Context) (rpki.Options, error) {
	opt := rpki.Options{MaxAge: c.Duration("rpki-max-age"), IgnoreExpiry: c.Bool("rpki-ignore-expiry"), AllowEmpty: c.Bool("rpki-allow-empty")}
	if opt.MaxAge < 0 {
		return opt, exitErr(ExitUsage, fmt.Errorf("--rpki-max-age must not be negative"))
	}
	for _, s := range c.StringSlice("rpki-ta") {
		for _, ta := range strings.Split(s, ",") {
			if ta = strings.TrimSpace(ta); ta != "" {
				opt.TrustAnchors = append(opt.TrustAnchors, ta)
			}
		}
	}
	if p := c.String("slurm"); p != "" {
		s, err := rpki.LoadSLURM(p)
		if err != nil {
			code := ExitData
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
				code = ExitUnavailable
			}
			return opt, exitErr(code, fmt.Errorf("--slurm: %w", err))
		}
		opt.SLURM = s
	}
	return opt, nil
}

// openRPKI loads the data named by the global --rpki flag: a relying-party output
// file (rpki-client / Routinator / StayRTR JSON or CSV, optionally gzipped) or
// rtr://HOST:PORT (a full Reset Query, bounded by --timeout). It returns nil, nil
// when --rpki is not given. Errors carry exit codes: 3 for an unreadable file or an
// unreachable cache, 2 for bad or stale data, 1 for bad flags.
func openRPKI(ctx context.Context, c *ucli.Context) (*rpki.Table, error) {
	spec := strings.TrimSpace(c.String("rpki"))
	if spec == "" {
		return nil, nil
	}
	opt, err := rpkiOptions(c)
	if err != nil {
		return nil, err
	}
	log := logger(c)
	start := time.Now()
	var t *rpki.Table
	if addr, ok := strings.CutPrefix(spec, "rtr://"); ok {
		addr = strings.TrimSuffix(addr, "/")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, exitErr(ExitUsage, fmt.Errorf("--rpki %s: want rtr://HOST:PORT: %w", spec, err))
		}
		if len(opt.TrustAnchors) > 0 {
			return nil, exitErr(ExitUsage, fmt.Errorf("--rpki-ta cannot filter RTR data (RTR carries no trust anchor)"))
		}
		if d := c.Duration("timeout"); d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		t, err = rtr.Fetch(ctx, addr, opt, log)
		if err != nil {
			code := ExitUnavailable
			if errors.Is(err, rpki.ErrStale) || errors.Is(err, rpki.ErrEmpty) {
				code = ExitData
			}
			return nil, exitErr(code, fmt.Errorf("--rpki %s: %w", spec, err))
		}
	} else {
		t, err = rpki.LoadFile(ctx, spec, opt)
		if err != nil {
			code := ExitData
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, context.DeadlineExceeded) {
				code = ExitUnavailable
			}
			return nil, exitErr(code, fmt.Errorf("--rpki: %w", err))
		}
	}
	md := t.Metadata()
	n4, n6 := t.Len()
	log.Debug("RPKI data loaded", "source", md.Source, "format", md.Format, "vrps4", n4, "vrps6", n6,
		"aspas", len(t.ASPAs()), "expired", md.Expired, "filtered_ta", md.FilteredTA,
		"slurm_filtered", md.FilteredSLURM, "slurm_added", md.AddedSLURM, "took", time.Since(start).Round(time.Millisecond))
	if md.Expired > 0 {
		log.Warn("dropped expired RPKI objects", "count", md.Expired, "source", md.Source)
	}
	return t, nil
}
