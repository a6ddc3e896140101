package cli

import (
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
	"github.com/bgpfilter/bgpfilter/routing"
)

func asPathCommand() *ucli.Command {
	flags := append([]ucli.Flag{
		&ucli.StringFlag{Name: "peer-as", Usage: "every path must start with this `ASN` (AS64496 or 64496)"},
		&ucli.BoolFlag{Name: "keep-private", Usage: "keep private, documentation and reserved origin ASNs " +
			"(23456, 64496-65551, 4200000000 and up), which are dropped by default as bgpq4 does without -p"},
		&ucli.BoolFlag{Name: "explain", Usage: "write the origins RPKI removed, with their invalid route objects and ROAs, to stderr"},
		rpkiPolicyFlag(),
		summaryFlag(),
	}, renderFlags()...)
	return filterCommand(&ucli.Command{
		Name:  "as-path",
		Usage: "origin / AS-path filter for AS-SETs and ASNs",
		Description: "With --rpki (policy drop-invalid or roa-add) an origin is removed when it has route " +
			"objects and every one of them is RPKI-invalid for it: it would announce nothing valid. Origins " +
			"without route objects stay. Removals are warnings on stderr, listed with --explain and in --summary-json.",
		ArgsUsage: "OBJECT... (flags may also follow the objects)",
		Flags:     flags,
	}, runASPath)
}

// parsePeerAS accepts "AS64496" or "64496" (routing.ParseASNumber); AS 0 and
// AS_TRANS are refused.
func parsePeerAS(s string) (routing.ASN, error) {
	if s == "" {
		return 0, nil
	}
	a, err := routing.ParseASNumber(s)
	if err != nil {
		return 0, fmt.Errorf("--peer-as %q: not an AS number", s)
	}
	if a == 0 || a == 23456 {
		return 0, fmt.Errorf("--peer-as %s: reserved AS number", a)
	}
	return a, nil
}

func runASPath(c *ucli.Context, objects []string) error {
	peer, err := parsePeerAS(c.String("peer-as"))
	if err != nil {
		return failSummary(c, objects, exitErr(ExitUsage, fmt.Errorf("as-path: %w", err)))
	}
	job := &pipeline.ASPathJob{FilterJob: filterJob(c, objects), PeerAS: peer, KeepPrivate: c.Bool("keep-private")}
	return job.Run(c.Context)
}
