package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the rpki command.
func rpkiCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "rpki",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("rpki: not yet implemented"))
		},
	}
}
