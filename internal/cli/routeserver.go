package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// routeServerCommand is `bgpfilter route-server --config rs.yml --out DIR` (issue 9).
func routeServerCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "route-server",
		Usage: "IXP route-server configuration (BIRD 2, and FRR for what FRR can express) from a member list",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "config", Aliases: []string{"c"}, Required: true, Usage: "route-server config `FILE` (YAML: rs, members, defaults)"},
			&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, Usage: "write bird.conf, frr.conf and summary.json into `DIR` (atomically)"},
			&ucli.StringSliceFlag{Name: "ixf", Usage: "add the members of an IX-F member export JSON `FILE`; repeatable"},
			&ucli.StringSliceFlag{Name: "peeringdb", Usage: "PeeringDB API net page `FILE` (JSON, gz ok): AS-SETs, max-prefix, never-via-route-servers; repeatable"},
			&ucli.BoolFlag{Name: "check", Usage: "run bird -p -c on the new bird.conf before installing it"},
			&ucli.Float64Flag{Name: "shrink-guard", Value: -1, Usage: "refuse to replace the config when the members' prefix entries shrink by more than this share (default: the config's shrink_guard)"},
			&ucli.StringFlag{Name: "template-dir", Usage: "override built-in templates from `DIR` (DIR/bird/rs.tmpl, DIR/frr/rs.tmpl)"},
		},
		Action: func(c *ucli.Context) error {
			job := &pipeline.RouteServerJob{Config: c.String("config"), Out: c.String("out"),
				IXF: c.StringSlice("ixf"), PeeringDB: c.StringSlice("peeringdb"), Check: c.Bool("check"),
				ShrinkGuard: c.Float64("shrink-guard"), TemplateDir: c.String("template-dir"),
				IRR: irrSpec(c), IRRGiven: c.IsSet("irr"), RPKI: rpkiSpec(c), Stdout: c.App.Writer, Logger: logger(c)}
			return job.Run(c.Context)
		},
	}
}
