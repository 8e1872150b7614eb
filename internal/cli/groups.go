package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/suggest"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// strictGroups makes every group command under c (one with subcommands)
// refuse an unknown subcommand with a usage error that suggests the closest
// ones, as cobra does for the root. A group with no action of its own
// prints its help when given no argument.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictGroups(sub)
	}
	if !c.HasSubCommands() {
		return
	}
	check := c.Args
	if !c.Runnable() {
		check = func(c *cobra.Command, args []string) error {
			if len(args) > 0 && (len(args) > 1 || args[0] != "help") { // 'phoenix backup help' is help
				return fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())
			}
			return nil
		}
		c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
	if check == nil { // a group that takes any arguments
		return
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	c.Args = func(c *cobra.Command, args []string) error {
		err := check(c, args)
		if err == nil || len(args) == 0 {
			return err
		}
		msg := err.Error()
		if s := suggest.Nearest(args[0], c.SuggestionsFor(args[0])); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usererr.Wrap(usererr.Usage, err, msg).WithHint("see '%s --help'", c.CommandPath())
	}
}
