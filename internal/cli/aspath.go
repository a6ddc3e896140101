package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/policy"
)

func asPathCommand() *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.StringFlag{Name: "peer-as", Usage: "every path must start with this `ASN` (AS64496 or 64496)"},
	}, renderFlags()...)
	return &ucli.Command{
		Name:      "as-path",
		Usage:     "origin / AS-path filter for AS-SETs and ASNs",
		ArgsUsage: "OBJECT... (flags may also follow the objects)",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			objects, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			return runASPath(c, objects)
		},
	}
}

// parsePeerAS accepts "AS64496" or "64496"; AS 0 and AS_TRANS are refused.
func parsePeerAS(s string) (irr.ASN, error) {
	if s == "" {
		return 0, nil
	}
	a, err := irr.ParseASN(s)
	if err != nil {
		a, err = irr.ParseASN("AS" + s)
	}
	if err != nil {
		return 0, fmt.Errorf("--peer-as %q: not an AS number", s)
	}
	if a == 0 || a == 23456 {
		return 0, fmt.Errorf("--peer-as %s: reserved AS number", a)
	}
	return a, nil
}

func runASPath(c *ucli.Context, objects []string) error {
	if len(objects) == 0 {
		return exitErr(ExitUsage, errors.New("as-path: no OBJECT given"))
	}
	peer, err := parsePeerAS(c.String("peer-as"))
	if err != nil {
		return exitErr(ExitUsage, fmt.Errorf("as-path: %w", err))
	}
	r, name, err := newRenderer(c, objects)
	if err != nil {
		return err
	}
	q, err := openIRR(c)
	if err != nil {
		return err
	}
	res := &irr.Resolver{Q: q, Sources: sourceList(c)}
	af, err := policy.BuildASPathFilter(c.Context, res, objects, policy.ASPathOptions{
		Name: name, PeerAS: peer, FailOnMissing: c.Bool("fail-on-missing"),
	})
	if err != nil {
		return exitErr(policyExitCode(err), fmt.Errorf("as-path: %w", err))
	}
	warn(c, af.Warnings)
	out, err := r.ASPath(af)
	if err != nil {
		return exitErr(renderExitCode(err), fmt.Errorf("as-path: %w", err))
	}
	return writeOutput(c, out)
}
