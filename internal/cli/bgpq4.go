package cli

import (
	"errors"
	"os"

	ucli "github.com/urfave/cli/v2"

	"github.com/bgpfilter/bgpfilter/internal/bgpq4"
	"github.com/bgpfilter/bgpfilter/irr"
)

// errQuiet carries an exit status whose message bgpq4 has already printed.
var errQuiet = errors.New("")

// bgpq4Command is the bgpq4 drop-in: bgpq4's own flags after the command name, data
// from the global --irr (or, like bgpq4, from the server named by -h).
func bgpq4Command() *ucli.Command {
	return &ucli.Command{
		Name:      "bgpq4",
		Usage:     "bgpq4-compatible filter generator (same flags, same output bytes as bgpq4 1.16)",
		ArgsUsage: "[bgpq4 flags] OBJECT... [EXCEPT OBJECT...]",
		Description: "Runs bgpq4's expansion and printers. With --irr the IRR data comes from local " +
			"RPSL files and the run behaves as bgpq4 against a current IRRd (which answers !a); " +
			"without --irr, -h host[:port] names the whois server as in bgpq4. Exit statuses " +
			"and stdout bytes are bgpq4's.",
		SkipFlagParsing: true,
		Action:          runBGPQ4,
	}
}

func runBGPQ4(c *ucli.Context) error {
	args, env := c.Args().Slice(), os.Environ()
	if code, done := bgpq4.Check(args, env, c.App.Writer, c.App.ErrWriter); done {
		return bgpq4Exit(code)
	}
	var q irr.Querier
	var err error
	if c.IsSet("irr") {
		q, err = openIRR(c)
	} else {
		q, err = openRemoteHost(c, bgpq4.Host(args, env))
	}
	if err != nil {
		return err
	}
	defer closeIRR(q)
	return bgpq4Exit(bgpq4.Run(c.Context, args, env, q, c.App.Writer, c.App.ErrWriter))
}

func bgpq4Exit(code int) error {
	if code == 0 {
		return nil
	}
	return exitErr(code, errQuiet)
}
