package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the whois-server command.
func whoisServerCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "whois-server",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("whois-server: not yet implemented"))
		},
	}
}
