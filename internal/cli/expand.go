package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the expand command.
func expandCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "expand",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("expand: not yet implemented"))
		},
	}
}
