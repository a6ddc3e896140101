package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bgpfilter/bgpfilter/policy"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
	"github.com/bgpfilter/bgpfilter/rpki/rtr"
)

// RPKISpec names the RPKI data of a job (the global --rpki flags).
type RPKISpec struct {
	// Spec is a relying-party output file (rpki-client / Routinator / StayRTR JSON or
	// CSV, optionally gzipped) or rtr://HOST:PORT; "" means no RPKI data.
	Spec string
	// SLURM is a local exceptions file (RFC 8416), applied to the data.
	SLURM string
	// MaxAge refuses data built longer ago (0: no limit).
	MaxAge time.Duration
	// TrustAnchors keeps only VRPs of these trust anchors (files only).
	TrustAnchors []string
	// IgnoreExpiry keeps VRPs/ASPAs whose "expires" time has passed.
	IgnoreExpiry bool
	// AllowEmpty accepts data without any usable VRP.
	AllowEmpty bool
	// Timeout bounds an RTR fetch (0: none).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Given reports whether the spec names RPKI data.
func (s RPKISpec) Given() bool { return strings.TrimSpace(s.Spec) != "" }

func (s RPKISpec) options() (rpki.Options, error) {
	opt := rpki.Options{MaxAge: s.MaxAge, IgnoreExpiry: s.IgnoreExpiry, AllowEmpty: s.AllowEmpty, TrustAnchors: s.TrustAnchors}
	if opt.MaxAge < 0 {
		return opt, WithCode(ExitUsage, fmt.Errorf("--rpki-max-age must not be negative"))
	}
	if s.SLURM != "" {
		sl, err := rpki.LoadSLURM(s.SLURM)
		if err != nil {
			code := ExitData
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
				code = ExitUnavailable
			}
			return opt, WithCode(code, fmt.Errorf("--slurm: %w", err))
		}
		opt.SLURM = sl
	}
	return opt, nil
}

// OpenRPKI loads the data of spec; nil, nil when spec names none. Errors carry exit
// codes: 3 for an unreadable file or an unreachable cache, 2 for bad, empty or stale
// data, 1 for a bad spec.
func OpenRPKI(ctx context.Context, spec RPKISpec) (*rpki.Table, error) {
	src := strings.TrimSpace(spec.Spec)
	if src == "" {
		return nil, nil
	}
	opt, err := spec.options()
	if err != nil {
		return nil, err
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	var t *rpki.Table
	if addr, ok := strings.CutPrefix(src, "rtr://"); ok {
		addr = strings.TrimSuffix(addr, "/")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--rpki %s: want rtr://HOST:PORT: %w", src, err))
		}
		if len(opt.TrustAnchors) > 0 {
			return nil, WithCode(ExitUsage, fmt.Errorf("--rpki-ta cannot filter RTR data (RTR carries no trust anchor)"))
		}
		if spec.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, spec.Timeout)
			defer cancel()
		}
		t, err = rtr.Fetch(ctx, addr, opt, log)
		if err != nil {
			code := ExitUnavailable
			if errors.Is(err, rpki.ErrStale) || errors.Is(err, rpki.ErrEmpty) {
				code = ExitData
			}
			return nil, WithCode(code, fmt.Errorf("--rpki %s: %w", src, err))
		}
	} else {
		t, err = rpki.LoadFile(ctx, src, opt)
		if err != nil {
			code := ExitData
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, context.DeadlineExceeded) {
				code = ExitUnavailable
			}
			return nil, WithCode(code, fmt.Errorf("--rpki: %w", err))
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

// RPKIPolicyEnv names the environment variable with the default RPKI policy.
const RPKIPolicyEnv = "BGPFILTER_RPKI_POLICY"

// ResolvePolicy settles a job's RPKI policy from the flag value ("" when not given),
// else env (the value of RPKIPolicyEnv), else the default (drop-invalid with RPKI
// data, ignore without). Without RPKI data an explicit policy other than ignore is a
// usage error, while the environment variable is not (it is meant to be set once for
// runs with and without RPKI data).
func ResolvePolicy(flagValue, env string, haveRPKI bool) (rpki.Policy, error) {
	value, name := strings.TrimSpace(flagValue), "--rpki-policy"
	if value == "" {
		value, name = strings.TrimSpace(env), RPKIPolicyEnv
	}
	p, err := rpki.ParsePolicy(value)
	if err != nil {
		return 0, WithCode(ExitUsage, fmt.Errorf("%s: %w", name, err))
	}
	if !haveRPKI {
		if flagValue != "" && p != rpki.PolicyIgnore {
			return 0, WithCode(ExitUsage, fmt.Errorf("--rpki-policy %s needs --rpki", p))
		}
		return rpki.PolicyIgnore, nil
	}
	return p, nil
}

// RPKIInput is the RPKI side of a job: the table (nil without RPKI data) and the
// policy applied to IRR data.
type RPKIInput struct {
	Table  *rpki.Table
	Policy rpki.Policy
}

// OpenRPKIPolicy resolves the policy (see ResolvePolicy) and loads the data.
func OpenRPKIPolicy(ctx context.Context, spec RPKISpec, flagValue, env string) (RPKIInput, error) {
	p, err := ResolvePolicy(flagValue, env, spec.Given())
	if err != nil {
		return RPKIInput{}, err
	}
	if !spec.Given() {
		return RPKIInput{Policy: p}, nil
	}
	t, err := OpenRPKI(ctx, spec)
	if err != nil {
		return RPKIInput{}, err
	}
	return RPKIInput{Table: t, Policy: p}, nil
}

// Hooks returns the validator hooks of the policy (none without data).
func (in RPKIInput) Hooks() rpki.Hooks { return in.Table.Hooks(in.Policy) }

// countingValidator counts the "invalid" answers of a validator (the prefix-list
// builder drops exactly those with drop-invalid and roa-add).
type countingValidator struct {
	v       policy.RouteValidator
	invalid atomic.Int64
}

// Validate implements policy.RouteValidator.
func (c *countingValidator) Validate(p netip.Prefix, origin routing.ASN) (routing.ROVState, []string) {
	st, why := c.v.Validate(p, origin)
	if st == routing.Invalid {
		c.invalid.Add(1)
	}
	return st, why
}
