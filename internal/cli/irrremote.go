package cli

import (
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/whois"
)

// remoteFlags are the global flags of the remote IRR (whois://) path; NewApp adds them
// to globalFlags. The per-query timeout is the global --timeout.
func remoteFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.DurationFlag{Name: "connect-timeout", EnvVars: []string{"BGPFILTER_CONNECT_TIMEOUT"}, Value: whois.DefaultConnectTimeout,
			Usage: "whois://: timeout of the TCP connect and handshake with each IRR server"},
		&ucli.GenericFlag{Name: "max-reply", EnvVars: []string{"BGPFILTER_MAX_REPLY"}, Value: &byteSize{n: whois.DefaultMaxReply},
			Usage: "whois://: refuse an IRR reply longer than `SIZE` (bytes, or with KiB, MiB, GiB); the run fails with exit 3 and keeps its previous output"},
		&ucli.DurationFlag{Name: "run-timeout", EnvVars: []string{"BGPFILTER_RUN_TIMEOUT"}, Value: 30 * time.Minute,
			Usage: "whois://: no IRR query of the run continues past this much time after the start (0: no limit)"},
		&ucli.StringFlag{Name: "cache-dir", EnvVars: []string{"BGPFILTER_CACHE_DIR"},
			Usage: "keep IRR answers (whois://, per query and source list) and snapshots of --irr files (default: the user cache directory's bgpfilter/) in this directory, verified on read"},
		&ucli.BoolFlag{Name: "no-snapshot-cache", EnvVars: []string{"BGPFILTER_NO_SNAPSHOT_CACHE"},
			Usage: "parse --irr files every run instead of keeping their snapshot in the cache directory"},
		&ucli.DurationFlag{Name: "cache-ttl", EnvVars: []string{"BGPFILTER_CACHE_TTL"}, Value: time.Hour,
			Usage: "whois://: serve cached answers younger than this without asking the servers (0: always ask)"},
		&ucli.DurationFlag{Name: "stale-on-failure", EnvVars: []string{"BGPFILTER_STALE_ON_FAILURE"},
			Usage: "whois://: when every IRR server fails, use a cached answer up to this old, with a warning (needs --cache-dir)"},
	}
}

// maxReply is the --max-reply value in bytes (0 when the app has no such flag: the
// client's default).
func maxReply(c *ucli.Context) int {
	if b, ok := c.Generic("max-reply").(*byteSize); ok && b != nil {
		return int(b.n)
	}
	return 0
}
