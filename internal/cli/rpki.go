package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
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
	t, err := openRPKI(c.Context, c)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, exitErr(ExitUsage, errors.New("rpki: --rpki FILE or --rpki rtr://HOST:PORT is required"))
	}
	return t, nil
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
			asn, err := rpki.ParseASN(args[1])
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
			p = p.Masked()
			st, _ := t.ROV(p, asn)
			covering := t.Covering(p)
			w := bufio.NewWriter(c.App.Writer)
			defer w.Flush()
			if format == "json" {
				type jv struct {
					Prefix    string      `json:"prefix"`
					MaxLength uint8       `json:"maxLength"`
					ASN       routing.ASN `json:"asn"`
					TA        string      `json:"ta"`
					Matches   bool        `json:"matches"`
				}
				out := struct {
					Prefix   string      `json:"prefix"`
					Origin   routing.ASN `json:"origin"`
					State    string      `json:"state"`
					Covering []jv        `json:"covering"`
				}{Prefix: p.String(), Origin: asn, State: st.String(), Covering: []jv{}}
				for _, v := range covering {
					out.Covering = append(out.Covering, jv{v.Prefix.String(), v.MaxLength, v.ASN, v.TA, matches(v, p, asn)})
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return exitErr(ExitUsage, fmt.Errorf("rpki validate: write: %w", err))
				}
				return rovExit(w, st)
			}
			fmt.Fprintf(w, "%s %s AS%d\n", st, p, asn)

			for _, v := range covering {
				why := "matches"
				switch {
				case matches(v, p, asn):
				case v.ASN == 0:
					why = "AS0 ROA (RFC 6483): never matches"
				case v.ASN != asn:
					why = "origin mismatch"
				default:
					why = fmt.Sprintf("prefix longer than maxLength %d", v.MaxLength)
				}
				fmt.Fprintf(w, "  ROA %s: %s\n", v, why)
			}
			return rovExit(w, st)
		},
	}
}

// rovExit flushes the validate output and returns the state as the exit code (0 valid,
// ExitROVInvalid, ExitROVNotFound), so a script can branch on the state without
// parsing the text; the codes are above the error codes 1-4.
func rovExit(w *bufio.Writer, st routing.ROVState) error {
	if err := w.Flush(); err != nil {
		return exitErr(ExitUsage, fmt.Errorf("rpki validate: write: %w", err))
	}
	switch st {
	case routing.Invalid:
		return exitErr(ExitROVInvalid, errQuiet)
	case routing.NotFound:
		return exitErr(ExitROVNotFound, errQuiet)
	}
	return nil
}

func matches(v rpki.VRP, p netip.Prefix, asn routing.ASN) bool {
	return v.ASN == asn && asn != 0 && p.Bits() <= int(v.MaxLength)
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
			if format == "json" {
				return t.WriteJSON(c.App.Writer)
			}
			w := bufio.NewWriterSize(c.App.Writer, 256<<10)
			w.WriteString("ASN,IP Prefix,Max Length,Trust Anchor\n")
			for _, v := range t.VRPs() {
				fmt.Fprintf(w, "AS%d,%s,%d,%s\n", v.ASN, v.Prefix, v.MaxLength, v.TA)
			}
			return w.Flush()
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
			w := bufio.NewWriter(c.App.Writer)
			defer w.Flush()
			md := t.Metadata()
			n4, n6 := t.Len()
			fmt.Fprintf(w, "source %s\nformat %s\n", md.Source, md.Format)
			if !md.BuildTime.IsZero() {
				fmt.Fprintf(w, "buildtime %s\n", md.BuildTime.UTC().Format("2006-01-02T15:04:05Z"))
			}
			fmt.Fprintf(w, "vrps %d\nvrps-ipv4 %d\nvrps-ipv6 %d\naspas %d\nexpired-dropped %d\n", n4+n6, n4, n6, len(t.ASPAs()), md.Expired)
			byTA := t.CountByTA()
			tas := make([]string, 0, len(byTA))
			for ta := range byTA {
				tas = append(tas, ta)
			}
			slices.Sort(tas)
			for _, ta := range tas {
				fmt.Fprintf(w, "ta %s %d\n", ta, byTA[ta])
			}
			return nil
		},
	}
}

func rpkiASPAVerifyCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.BoolFlag{Name: "upstream", Usage: "the route came from a customer or lateral peer (default)"},
		&ucli.BoolFlag{Name: "downstream", Usage: "the route came from a provider"},
		&ucli.StringFlag{Name: "neighbor", Usage: "neighbour `AS` the route came from (must be the first AS of the path)"},
		&ucli.BoolFlag{Name: "route-server", Usage: "the neighbour is a transparent route server"},
		&ucli.IntFlag{Name: "afi", Usage: "address family 4 or 6 for per-AFI ASPA data (0 = both)"},
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
				if opt.Neighbor, err = rpki.ParseASN(n); err != nil {
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
		&ucli.IntFlag{Name: "afi", Usage: "address family 4 or 6 for per-AFI ASPA data (0 = union)"},
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
			format, name := c.String("format"), c.String("name")
			switch format {
			case "bird", "frr", "junos", "iosxr":
			case "":
				return exitErr(ExitUsage, errors.New("rpki aspa: --format is required"))
			default:
				return exitErr(ExitUsage, fmt.Errorf("rpki aspa: unknown --format %q", format))
			}
			if name == "" {
				name = "ASPA"
				if format == "bird" {
					name = "aspa"
				}
			}
			if format != "bird" && len(args) == 0 {
				return exitErr(ExitUsage, fmt.Errorf("rpki aspa: --format %s needs the customer cone (ASNs or AS-SETs)", format))
			}
			cone, err := expandCone(c, args)
			if err != nil {
				return err
			}
			t, err := requireRPKI(c)
			if err != nil {
				return err
			}
			opt := rpki.RenderOptions{Name: name, Cone: cone, AFI: c.Int("afi")}
			if format == "bird" {
				err = t.WriteBIRDASPA(c.App.Writer, opt)
			} else {
				err = t.WriteASPAPathFilter(c.App.Writer, format, opt)
			}
			if err != nil {
				return exitErr(exitCode(err, ExitData), fmt.Errorf("rpki aspa: %w", err))
			}
			return nil
		},
	}
}

// expandCone turns the arguments into ASNs: plain ASNs directly, anything else
// (AS-SETs) through the IRR data of --irr.
func expandCone(c *ucli.Context, args []string) ([]routing.ASN, error) {
	var cone []routing.ASN
	var sets []string
	for _, a := range args {
		if n, err := routing.ParseASNumber(a); err == nil {
			cone = append(cone, n)
			continue
		}
		sets = append(sets, a)
	}
	if len(sets) == 0 {
		return cone, nil
	}
	q, err := openIRR(c)
	if err != nil {
		return nil, err
	}
	defer closeIRR(q)
	res := &irr.Resolver{Q: q, Sources: sourceList(c)}
	exp, err := res.Expand(c.Context, sets...)
	if err != nil {
		return nil, exitErr(exitCode(err, ExitData), fmt.Errorf("rpki aspa: expand %s: %w", strings.Join(sets, ","), err))
	}
	return append(cone, exp.ASNs...), nil
}
