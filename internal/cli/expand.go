package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/pipeline"
)

func expandCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "expand",
		Usage:     "the ASNs (and route-set prefixes) an AS-SET, route-set or ASN expands to",
		ArgsUsage: "OBJECT...",
		Description: "OBJECT is an AS-SET or route-set (optionally SOURCE::NAME, looked up in SOURCE only),\n" +
			"an ASN or a prefix. Unknown member sets, loops and invalid members are reported on stderr; an unknown\n" +
			"root set exits 2.",
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "tree", Usage: "print the set tree: by which path each ASN was reached"},
			&ucli.BoolFlag{Name: "json", Usage: "print a JSON object {asns, prefixes, paths, missing, loops, invalid}"},
			&ucli.IntFlag{Name: "max-depth", Value: irr.DefaultMaxDepth, Usage: "maximum set nesting depth"},
			&ucli.IntFlag{Name: "max-size", Usage: "maximum number of ASNs plus prefixes (0: no limit)"},
		},
		Action: runExpand,
	}
}

func runExpand(c *ucli.Context) error {
	job := &pipeline.ExpandJob{Objects: c.Args().Slice(), IRR: irrSpec(c), Tree: c.Bool("tree"), JSON: c.Bool("json"),
		MaxDepth: c.Int("max-depth"), MaxSize: c.Int("max-size"), Stdout: c.App.Writer, Logger: logger(c)}
	return job.Run(c.Context)
}
