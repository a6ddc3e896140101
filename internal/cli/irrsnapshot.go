package cli

import (
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// irrSnapshotCommand is `bgpfilter --irr FILE... irr-snapshot --output FILE.snap`: it
// loads RPSL files as every command does and writes the binary snapshot of the index
// (irr.WriteSnapshot). A later `--irr FILE.snap` loads it without parsing RPSL.
func irrSnapshotCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "irr-snapshot",
		Usage:     "write a binary snapshot of the --irr files for fast loading",
		ArgsUsage: " ",
		Description: `Loads the RPSL files given with --irr (as any command does) and writes the
index as one binary file. Giving that file as the only --irr value later loads
it in a fraction of the time (its object texts are read only when a whois
query needs them). A snapshot is a cache: remake it when the dumps change.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "snapshot file to write"},
		},
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return exitErr(ExitUsage, fmt.Errorf("irr-snapshot: unexpected argument %q", c.Args().First()))
			}
			spec := irrSpec(c)
			for _, s := range spec.Specs {
				if pipeline.IsRemote(s) {
					return exitErr(ExitUsage, errors.New("irr-snapshot: --irr must name local files"))
				}
			}
			return pipeline.WriteIRRSnapshot(c.Context, spec, c.String("output"))
		},
	}
}
