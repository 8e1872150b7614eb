package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestArgumentErrorsNameTheCommand: a wrong number of arguments is a usage
// error (exit 2) that names the command and shows its usage line, and a
// flag value Go cannot parse is said in words, without strconv's text.
func TestArgumentErrorsNameTheCommand(t *testing.T) {
	unsetEnv(t, "PHOENIX_SERVER", "PHOENIX_ENV")
	t.Setenv("PHOENIX_DATA", t.TempDir())
	for _, c := range []struct{ args, want, hint string }{
		{"logs", "error: phoenix logs: accepts 1 arg(s), received 0", "hint: usage: phoenix logs RUN"},
		{"alerts ack", "error: phoenix alerts ack: accepts 1 arg(s)", "hint: usage: phoenix alerts ack ID"},
		{"deployments x --env production", `error: phoenix deployments takes no arguments, got "x"`, "see 'phoenix deployments --help'"},
		{"runs --limit abc", `invalid argument "abc" for "--limit" flag: want a whole number`, "hint: see 'phoenix runs --help'"},
		{"runs --limit 99999999999999999999", "number out of range", "hint: see 'phoenix runs --help'"},
		{"alerts silence --for 3x", `"--for" flag: want a duration such as 30s, 5m or 2h`, "see 'phoenix alerts silence --help'"},
		{"demo --exit=maybe", `"--exit" flag: want true or false`, "see 'phoenix demo --help'"},
		{"status --bogus", "unknown flag: --bogus", "see 'phoenix status --help'"},
	} {
		_, errs, code := run(strings.Fields(c.args)...)
		if code != 2 || !strings.Contains(errs, c.want) || !strings.Contains(errs, c.hint) || strings.Contains(errs, "strconv") {
			t.Errorf("phoenix %s: exit %d:\n%s", c.args, code, errs)
		}
	}
}

// TestEveryCommandChecksArgsAsUsage: every command that checks its
// arguments turns cobra's errors into usage errors (usageArgs covers all).
func TestEveryCommandChecksArgsAsUsage(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Args == nil || c.HasSubCommands() || !c.Runnable() {
			return
		}
		many := make([]string, 50) // more arguments than any command takes
		for i := range many {
			many[i] = "x"
		}
		if err := c.Args(c, many); err != nil && !strings.Contains(err.Error(), c.CommandPath()) {
			t.Errorf("%s: %v does not name the command", c.CommandPath(), err)
		}
	}
	walk(newRoot(&Globals{}))
}

// TestEveryCommandHasHelp: every command has a one-line summary and at
// least one example in --help.
func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.HasParent() && c.Parent().Name() == "completion" {
			return
		}
		if c.Short == "" || strings.Contains(c.Short, "\n") {
			t.Errorf("%s: summary %q is not one line", c.CommandPath(), c.Short)
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no example in --help", c.CommandPath())
		}
	}
	walk(newRoot(&Globals{}))
}
