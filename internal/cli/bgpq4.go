package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the bgpq4 command.
func bgpq4Command() *ucli.Command {
	return &ucli.Command{
		Name:  "bgpq4",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("bgpq4: not yet implemented"))
		},
	}
}
