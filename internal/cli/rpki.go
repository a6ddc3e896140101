package cli

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
	"github.com/bgpfilter/bgpfilter/routing"
	"github.com/bgpfilter/bgpfilter/rpki"
)

// rpkiCommand is "bgpfilter rpki": route origin validation, dumps, ASPA
// verification and ASPA rendering over the data of the global --rpki flag.
func rpkiCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "rpki",
		Usage: "RPKI data (--rpki): validate a route, dump VRPs/ASPAs, verify AS paths with ASPA, render ASPA filters",
		Subcommands: []*ucli.Command{
			rpkiValidateCommand(),
			rpkiDumpCommand(),
			rpkiStatsCommand(),
			rpkiASPAVerifyCommand(),
			rpkiASPACommand(),
		},
	}
}

// requireRPKI loads --rpki and fails with a usage error when it is not given.
func requireRPKI(c *ucli.Context) (*rpki.Table, error) {
	return pipeline.RequireRPKI(c.Context, rpkiSpec(c))
}

func rpkiValidateCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
	}
	return &ucli.Command{
		Name:      "validate",
		Usage:     "RFC 6811 origin validation of one route: prints valid, invalid or not-found and the covering VRPs; exits 0 valid, 10 invalid, 11 not-found",
		ArgsUsage: "PREFIX ASN",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			args, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			if len(args) != 2 {
				return exitErr(ExitUsage, errors.New("rpki validate: want PREFIX ASN"))
			}
			p, err := netip.ParsePrefix(args[0])
			if err != nil {
				return exitErr(ExitUsage, fmt.Errorf("rpki validate: %w", err))
			}
			asn, err := routing.ParseASNumber(args[1])
			if err != nil {
				return exitErr(ExitUsage, fmt.Errorf("rpki validate: %w", err))
			}
			format := c.String("format")
			if format != "text" && format != "json" {
				return exitErr(ExitUsage, fmt.Errorf("rpki validate: unknown --format %q", format))
			}
			t, err := requireRPKI(c)
			if err != nil {
				return err
			}
			return pipeline.ValidateRoute(c.App.Writer, t, p, asn, format)
		},
	}
}

func rpkiDumpCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringFlag{Name: "format", Value: "json", Usage: "json (rpki-client layout) or csv (rpki-client CSV without expires)"},
	}
	return &ucli.Command{
		Name:  "dump",
		Usage: "print the loaded VRPs and ASPAs, sorted",
		Flags: flags,
		Action: func(c *ucli.Context) error {
			args, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			if len(args) != 0 {
				return exitErr(ExitUsage, fmt.Errorf("rpki dump: unexpected argument %q", args[0]))
			}
			format := c.String("format")
			if format != "json" && format != "csv" {
				return exitErr(ExitUsage, fmt.Errorf("rpki dump: unknown --format %q", format))
			}
			t, err := requireRPKI(c)
			if err != nil {
				return err
			}
			return pipeline.WriteDump(c.App.Writer, t, format)
		},
	}
}

func rpkiStatsCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "stats",
		Usage: "counts of VRPs per trust anchor and of ASPAs",
		Action: func(c *ucli.Context) error {
			t, err := requireRPKI(c)
			if err != nil {
				return err
			}
			return pipeline.WriteStats(c.App.Writer, t)
		},
	}
}

func rpkiASPAVerifyCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.BoolFlag{Name: "upstream", Usage: "the route came from a customer or lateral peer (default)"},
		&ucli.BoolFlag{Name: "downstream", Usage: "the route came from a provider"},
		&ucli.StringFlag{Name: "neighbor", Usage: "neighbour `AS` the route came from (must be the first AS of the path)"},
		&ucli.BoolFlag{Name: "route-server", Usage: "the neighbour is a transparent route server"},
		&ucli.IntFlag{Name: "afi", Usage: "address family 4 or 6 for per-AFI ASPA data (0: both; unknown when the families disagree)"},
	}
	return &ucli.Command{
		Name:      "aspa-verify",
		Usage:     "AS_PATH verification with ASPA (draft-ietf-sidrops-aspa-verification): prints valid, invalid or unknown",
		ArgsUsage: "AS_PATH (neighbour first, origin last; e.g. 64500 64501 or \"AS64500,AS64501\")",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			args, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			if c.Bool("upstream") && c.Bool("downstream") {
				return exitErr(ExitUsage, errors.New("rpki aspa-verify: --upstream and --downstream exclude each other"))
			}
			path, err := rpki.ParseASPath(strings.Join(args, " "))
			if err != nil {
				return exitErr(ExitUsage, fmt.Errorf("rpki aspa-verify: %w", err))
			}
			opt := rpki.VerifyOptions{Downstream: c.Bool("downstream"), RouteServer: c.Bool("route-server"), AFI: c.Int("afi")}
			if opt.AFI != 0 && opt.AFI != 4 && opt.AFI != 6 {
				return exitErr(ExitUsage, fmt.Errorf("rpki aspa-verify: --afi must be 4 or 6"))
			}
			if n := c.String("neighbor"); n != "" {
				if opt.Neighbor, err = routing.ParseASNumber(n); err != nil {
					return exitErr(ExitUsage, fmt.Errorf("rpki aspa-verify: --neighbor: %w", err))
				}
			}
			t, err := requireRPKI(c)
			if err != nil {
				return err
			}
			v := t.VerifyPath(path, opt)
			dir := "upstream"
			if opt.Downstream {
				dir = "downstream"
			}
			_, err = fmt.Fprintf(c.App.Writer, "%s %s path %s: %s\n", v.State, dir, path, v.Reason)
			return err
		},
	}
}

func rpkiASPACommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringFlag{Name: "format", Usage: "bird (BIRD >= 2.16 aspa table), or frr, junos, iosxr (AS-path filter for a customer cone)"},
		&ucli.StringFlag{Name: "name", Aliases: []string{"l"}, Usage: "table / filter `NAME`"},
		&ucli.IntFlag{Name: "afi", Usage: "address family 4 or 6 for per-AFI ASPA data (0: refused when an ASPA differs per family)"},
	}
	return &ucli.Command{
		Name:      "aspa",
		Usage:     "render ASPA data: a BIRD aspa table, or AS-path filters derived from the ASPAs of a customer cone",
		ArgsUsage: "[CONE: ASNs or AS-SETs (expanded through --irr); required for frr/junos/iosxr]",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			args, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			job := &pipeline.ASPAJob{Format: c.String("format"), Name: c.String("name"), Cone: args, AFI: c.Int("afi"),
				IRR: irrSpec(c), RPKI: rpkiSpec(c), Output: pipeline.Output{Stdout: c.App.Writer}}
			return job.Run(c.Context)
		},
	}
}
