package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/pipeline"
)

// summaryFlag is --summary-json of prefix-list and as-path (the bgpq4 command takes it
// as a leading option, see bgpq4.go).
func summaryFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "summary-json", Usage: "write a machine-readable run summary to `FILE` " +
		"(atomically, also when the run fails): status, exit code, entries, IRR sources and stale cache use, RPKI counts"}
}

// rpkiPolicyFlag is --rpki-policy of prefix-list and as-path.
func rpkiPolicyFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "rpki-policy",
		Usage: "IRR ∩ RPKI: ignore, drop-invalid (drop RPKI-invalid route objects) or roa-add (also accept the " +
			"ROA prefixes, up to maxLength, of expanded origins); default drop-invalid with --rpki, ignore without " +
			"(env " + pipeline.RPKIPolicyEnv + ", used only with --rpki)"}
}
