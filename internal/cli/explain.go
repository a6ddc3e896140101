package cli

import (
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

func explainCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "explain",
		Usage:     "accept or reject: what a customer's import policy does with one route, and why",
		ArgsUsage: "CUSTOMER PREFIX AS_PATH",
		Description: "Evaluates the policy document that generate renders for CUSTOMER of --config (the\n" +
			"same rules, objects and data) for one announcement. AS_PATH is the ASNs separated by\n" +
			"spaces, left-most (the neighbour) first, e.g. \"64500 64501\"; an AS_SET in braces.\n" +
			"Prints accept or reject, the deciding rule and its evidence (route objects and their\n" +
			"sources, ROAs and trust anchors, the bogon or peerlock ASN).",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", EnvVars: []string{"BGPFILTER_CONFIG"}, Usage: "the YAML config file", Required: true},
			&ucli.BoolFlag{Name: "json", Usage: "print the decision as JSON"},
			&ucli.BoolFlag{Name: "export", Usage: "evaluate the export policy to CUSTOMER (own space plus every customer's filter); AS_PATH may be omitted"},
			&ucli.StringFlag{Name: "rov", Usage: "the route's RPKI state as the router sees it (valid, invalid, not-found); default: from the RPKI data"},
		},
		Action: runExplain,
	}
}

func runExplain(c *ucli.Context) error {
	args := c.Args().Slice()
	if len(args) < 3 && !(c.Bool("export") && len(args) == 2) {
		return exitErr(ExitUsage, fmt.Errorf("explain: want CUSTOMER PREFIX AS_PATH, got %d arguments", len(args)))
	}
	job := &pipeline.ExplainJob{Config: c.String("config"), Customer: args[0], Prefix: args[1],
		Path: strings.Join(args[2:], " "), ROV: c.String("rov"), JSON: c.Bool("json"), Export: c.Bool("export"),
		IRR: irrSpec(c), IRRFromFlags: c.IsSet("irr"), RPKI: rpkiSpec(c), RPKIFromFlags: c.IsSet("rpki"),
		Stdout: c.App.Writer, Logger: logger(c)}
	return job.Run(c.Context)
}
