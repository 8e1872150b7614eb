package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// usageArgs makes the argument checks of every command under c that is not
// a group (strictGroups handles those) return usage errors that name the
// command and show its usage line, instead of cobra's bare "accepts 1
// arg(s), received 0".
func usageArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
	check := c.Args
	if check == nil || c.HasSubCommands() {
		return
	}
	c.Args = func(c *cobra.Command, args []string) error {
		err := check(c, args)
		var ue *usererr.Error
		if err == nil || errors.As(err, &ue) {
			return err
		}
		msg := c.CommandPath() + ": " + err.Error()
		if strings.HasPrefix(err.Error(), "unknown command") { // cobra.NoArgs
			msg = fmt.Sprintf("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))
		}
		return usererr.Wrap(usererr.Usage, err, msg).
			WithHint("usage: %s; see '%s --help'", c.UseLine(), c.CommandPath())
	}
}

// goParseError matches the parse errors of strconv and time that pflag
// puts in its messages about flag values.
var goParseError = regexp.MustCompile(`: (strconv\.Parse(Int|Uint|Float|Bool): parsing "[^"]*": (invalid syntax|value out of range)|time: (invalid|unknown unit|missing unit)[^"]*"[^"]*"( in duration "[^"]*")?)$`)

// flagError is the usage error for a flag cobra or pflag refused, with Go's
// parse errors put in words and a hint naming the command's help.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if m := goParseError.FindStringSubmatch(msg); m != nil {
		msg = strings.TrimSuffix(msg, m[0]) + ": " + parseWant(m[1])
	}
	return usererr.Wrap(usererr.Usage, err, msg).WithHint("see '%s --help'", cmd.CommandPath())
}

// parseWant says what a flag value that failed Go's parse error e should be.
func parseWant(e string) string {
	switch {
	case strings.Contains(e, "value out of range"):
		return "number out of range"
	case strings.HasPrefix(e, "strconv.ParseInt"), strings.HasPrefix(e, "strconv.ParseUint"):
		return "want a whole number"
	case strings.HasPrefix(e, "strconv.ParseFloat"):
		return "want a number"
	case strings.HasPrefix(e, "strconv.ParseBool"):
		return "want true or false"
	}
	return fmt.Sprintf("want a duration such as %s", "30s, 5m or 2h")
}
