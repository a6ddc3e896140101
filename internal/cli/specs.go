package cli

import (
	"os"
	"path/filepath"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// irrSpec turns the global IRR flags into the pipeline's spec.
func irrSpec(c *ucli.Context) pipeline.IRRSpec {
	return pipeline.IRRSpec{
		Specs:          pipeline.SplitSpecs(c.StringSlice("irr")),
		Sources:        pipeline.SplitSources(c.String("sources")),
		Strict:         c.Bool("strict"),
		QueryTimeout:   c.Duration("timeout"),
		ConnectTimeout: c.Duration("connect-timeout"),
		RunTimeout:     c.Duration("run-timeout"),
		MaxReply:       maxReply(c),
		CacheDir:       c.String("cache-dir"),
		// The snapshot cache of --irr files: --cache-dir, else bgpfilter/ under the
		// user cache directory; none with --no-snapshot-cache or without a user
		// cache directory.
		SnapshotCacheDir: snapshotCacheDir(c),
		CacheTTL:         c.Duration("cache-ttl"),
		StaleOnFailure:   c.Duration("stale-on-failure"),
		Logger:           logger(c),
		Progress:         progressFunc(c),
	}
}

// progressFunc draws load progress on stderr when it is a terminal and --quiet is not
// set.
func progressFunc(c *ucli.Context) pipeline.ProgressFunc {
	if c.Bool("quiet") {
		return nil
	}
	return pipeline.TerminalProgress(c.App.ErrWriter)
}

// rpkiSpec turns the global RPKI flags into the pipeline's spec.
func rpkiSpec(c *ucli.Context) pipeline.RPKISpec {
	var tas []string
	for _, s := range c.StringSlice("rpki-ta") {
		for _, ta := range strings.Split(s, ",") {
			if ta = strings.TrimSpace(ta); ta != "" {
				tas = append(tas, ta)
			}
		}
	}
	return pipeline.RPKISpec{
		Spec:         c.String("rpki"),
		SLURM:        c.String("slurm"),
		MaxAge:       c.Duration("rpki-max-age"),
		TrustAnchors: tas,
		IgnoreExpiry: c.Bool("rpki-ignore-expiry"),
		AllowEmpty:   c.Bool("rpki-allow-empty"),
		Timeout:      c.Duration("timeout"),
		Logger:       logger(c),
	}
}

// rpkiPolicyEnvValue is the default --rpki-policy from the environment.
func rpkiPolicyEnvValue() string { return os.Getenv(pipeline.RPKIPolicyEnv) }

// snapshotCacheDir is where --irr files keep their snapshot (see irrcache.LoadFiles).
func snapshotCacheDir(c *ucli.Context) string {
	if c.Bool("no-snapshot-cache") {
		return ""
	}
	if d := c.String("cache-dir"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "bgpfilter")
}
