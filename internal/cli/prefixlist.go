package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

// PLACEHOLDER: replaced by the owner of the prefix-list command.
func prefixListCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "prefix-list",
		Usage: "not yet implemented",
		Action: func(*ucli.Context) error {
			return exitErr(ExitUsage, errors.New("prefix-list: not yet implemented"))
		},
	}
}
