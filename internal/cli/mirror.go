package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the mirror command.
func mirrorCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "mirror",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("mirror: not yet implemented"))
		},
	}
}
