package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// reportCommand is `bgpfilter report OBJECT...`: the MANRS readiness report (issue 11).
func reportCommand() *ucli.Command {
	flags := []ucli.Flag{
		&ucli.StringSliceFlag{Name: "announcements", Aliases: []string{"a"},
			Usage: "announced routes: MRT RIB/updates, bgpdump -m text, pfx2as or RIS whois dump `FILE` (gz ok); repeatable"},
		&ucli.StringFlag{Name: "format", Aliases: []string{"F"}, Value: "text", Usage: "text, json or html"},
		&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` atomically instead of stdout"},
		&ucli.StringSliceFlag{Name: "peeringdb", Usage: "PeeringDB API net page `FILE` (JSON, gz ok); repeatable"},
		rpkiPolicyFlag(),
	}
	return &ucli.Command{
		Name:      "report",
		Usage:     "MANRS readiness report (IRR/RPKI coverage, conflicts, contacts) for ASNs or AS-SETs",
		ArgsUsage: "OBJECT...",
		Flags:     flags,
		Action: func(c *ucli.Context) error {
			objects, err := permuteArgs(c, flags)
			if err != nil {
				return err
			}
			return runReport(c, objects)
		},
	}
}

func runReport(c *ucli.Context, objects []string) error {
	job := &pipeline.ReportJob{Objects: objects, Format: c.String("format"),
		Announcements: c.StringSlice("announcements"), PeeringDB: c.StringSlice("peeringdb"),
		IRR: irrSpec(c), RPKI: rpkiSpec(c), RPKIPolicy: c.String("rpki-policy"), RPKIPolicyEnv: rpkiPolicyEnvValue(),
		Output: pipeline.Output{Path: c.String("output"), Stdout: c.App.Writer}, Logger: logger(c)}
	return job.Run(c.Context)
}
