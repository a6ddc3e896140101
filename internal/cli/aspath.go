package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the as-path command.
func asPathCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "as-path",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("as-path: not yet implemented"))
		},
	}
}
