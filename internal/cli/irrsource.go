package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/irr"
	"github.com/bgpfilter/bgpfilter/irrcache"
)

// defaultIRR is used when --irr is not given.
const defaultIRR = "whois://whois.radb.net"

// irrSpecs returns the --irr values (default whois://whois.radb.net).
func irrSpecs(c *ucli.Context) []string {
	var specs []string
	for _, s := range c.StringSlice("irr") {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				specs = append(specs, p)
			}
		}
	}
	if len(specs) == 0 {
		specs = []string{defaultIRR}
	}
	return specs
}

// sourceList returns the --sources list, upper-cased, or nil.
func sourceList(c *ucli.Context) []string {
	var out []string
	for _, s := range strings.Split(c.String("sources"), ",") {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// openIRR opens the IRR data named by the global --irr flags: RPSL files, .gz files or
// directories are loaded into one irr.Index (sources in load order, then reordered by
// --sources); --strict makes a malformed object fatal; otherwise the number of
// malformed objects is logged as a warning (not with --quiet). The error carries an
// exit code: 2 for bad data or an unknown --sources name, 3 for an unavailable source.
// whois:// specs go to openRemote (irrremote.go); they cannot be mixed with files. The
// caller releases the Querier with closeIRR.
func openIRR(c *ucli.Context) (irr.Querier, error) {
	oneShotGC()
	var paths, remote []string
	for _, spec := range irrSpecs(c) {
		if isRemoteSpec(spec) {
			remote = append(remote, spec)
			continue
		}
		paths = append(paths, spec)
	}
	switch {
	case len(remote) > 0 && len(paths) > 0:
		return nil, exitErr(ExitUsage, errors.New("--irr: whois:// servers and local files cannot be mixed"))
	case len(remote) > 0:
		return openRemote(c, remote)
	}
	log := logger(c)
	prog, progDone := loadProgress(c, "loading IRR data")
	ix, rep, err := irrcache.LoadFiles(c.Context, paths, irr.LoadOptions{
		Strict:   c.Bool("strict"),
		Progress: prog,
	}, irrcache.SnapshotOptions{Dir: snapshotCacheDir(c), Logger: log})
	progDone()
	if err != nil {
		var oe *irr.ObjectError
		if errors.As(err, &oe) || errors.Is(err, irr.ErrSnapshot) {
			return nil, exitErr(ExitData, err)
		}
		return nil, exitErr(ExitUnavailable, err)
	}
	if rep.Skipped > 0 {
		first := rep.Malformed[0]
		log.Warn("skipped malformed RPSL objects", "count", rep.Skipped, "first", first.Error())
		for _, m := range rep.Malformed {
			log.Debug("malformed RPSL object", "file", m.File, "line", m.Line, "error", m.Msg)
		}
	}
	if rep.MultiOrigin > 0 {
		log.Warn("route objects with several origin attributes, indexed under each origin (--strict refuses them)",
			"count", rep.MultiOrigin, "first", rep.FirstMultiOrigin.Error())
	}
	log.Debug("IRR data loaded", "files", rep.Files, "bytes", rep.Bytes, "objects", rep.Objects)
	if srcs := sourceList(c); len(srcs) > 0 {
		if err := ix.SetDefaultSources(srcs); err != nil {
			return nil, exitErr(ExitData, fmt.Errorf("--sources: %w (loaded: %s)", err, strings.Join(ix.AllSources(), ",")))
		}
	}
	return ix, nil
}

// snapshotCacheDir is where --irr files keep their snapshot (see irrcache.LoadFiles):
// --cache-dir, else bgpfilter/ under the user cache directory; "" (no cache) with
// --no-snapshot-cache or when there is no user cache directory.
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

// oneShotGC raises the GC target for commands that build one filter and exit (the
// callers of openIRR; never the long-running whois-server): the index is allocated once
// and lives until exit, so collecting four times less often saves 10-20% CPU on large
// lists for a bounded amount of extra memory. GOGC from the environment wins.
func oneShotGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}
