package cli

import (
	ucli "github.com/urfave/cli/v2"
)

// rpkiFlags are the global flags that qualify --rpki. The lead adds them to
// globalFlags().
func rpkiFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "slurm", EnvVars: []string{"BGPFILTER_SLURM"},
			Usage: "SLURM file (RFC 8416) with local RPKI exceptions, applied to --rpki data"},
		&ucli.DurationFlag{Name: "rpki-max-age", EnvVars: []string{"BGPFILTER_RPKI_MAX_AGE"},
			Usage: "refuse RPKI data built longer ago than this (e.g. 2h; 0 = no limit)"},
		&ucli.StringSliceFlag{Name: "rpki-ta", EnvVars: []string{"BGPFILTER_RPKI_TA"},
			Usage: "use only VRPs of these trust anchors (e.g. ripe,arin); repeatable"},
		&ucli.BoolFlag{Name: "rpki-ignore-expiry", EnvVars: []string{"BGPFILTER_RPKI_IGNORE_EXPIRY"},
			Usage: "keep VRPs/ASPAs whose \"expires\" time has passed (for replaying old data)"},
		&ucli.BoolFlag{Name: "rpki-allow-empty", EnvVars: []string{"BGPFILTER_RPKI_ALLOW_EMPTY"},
			Usage: "accept RPKI data without any usable VRP (otherwise refused: drop-invalid would drop nothing)"},
	}
}
