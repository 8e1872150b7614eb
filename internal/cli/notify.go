package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func newNotifyCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "notify",
		Short:   "Test a project's notification channels",
		Example: "  phoenix notify test shop/teams",
		Args:    cobra.NoArgs,
	}
	cmd.AddCommand(newNotifyTestCmd(g))
	return cmd
}

func newNotifyTestCmd(g *Globals) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "test CHANNEL",
		Short: "Send a test message through a channel now and say what its receiver answered",
		Long: `Send a test message (event notify.test, informational) through a project's
notification channel now, through the channel's own sender (a Teams card, a
Slack message, a signed webhook, an email), whatever the channel subscribes
to, and print what the receiver answered. CHANNEL is PROJECT/NAME, as
phoenix status's NOTIFY lines name it, or NAME with --project.

Exits 0 when the receiver took the message, 1 when it refused it or could not
be reached. A success counts as the channel's last delivery: phoenix status
no longer names the channel, and its notify-undeliverable alert resolves at
once. Needs deploy on every environment of the project, as changing its
channels does. Recorded in the audit log as notify.test, never with the
channel's URL or keys.`,
		Example: "  phoenix notify test shop/teams\n  phoenix notify test teams --project shop -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g.started = true
			proj, name, err := channelArg(args[0], project)
			if err != nil {
				return err
			}
			t, err := g.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer t.close()
			res, err := testChannel(cmd.Context(), t.client, proj, name)
			if err != nil {
				return err
			}
			if err := g.emit(res, func(w io.Writer) error { return printTestResult(w, proj, res) }); err != nil {
				return err
			}
			if !res.OK {
				return usererr.New(usererr.Failed, "%s/%s did not take the test message: %s", proj, name, res.Error)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "the project whose channel CHANNEL is (else CHANNEL is PROJECT/NAME)")
	return cmd
}

// channelArg splits CHANNEL into its project and name: PROJECT/NAME, or
// NAME of --project.
func channelArg(arg, project string) (string, string, error) {
	p, name, slash := strings.Cut(arg, "/")
	switch {
	case slash && project != "" && p != project:
		return "", "", usererr.New(usererr.Usage, "channel %s is of project %s, not --project %s", arg, p, project)
	case slash && p != "" && name != "":
		return p, name, nil
	case !slash && project != "" && arg != "":
		return project, arg, nil
	}
	return "", "", usererr.New(usererr.Usage, "channel %q: want PROJECT/NAME (shop/teams), or NAME with --project", arg).
		WithHint("phoenix status's NOTIFY lines and phoenix.yaml's notifications.channels name them")
}

func testChannel(ctx context.Context, c *client.Client, project, name string) (api.NotifyTestResult, error) {
	var out api.NotifyTestResult
	return out, c.Do(ctx, "POST", client.Path("projects", project, "channels", name, "test"), nil, &out)
}

// printTestResult says what the receiver answered:
//
//	shop/teams: delivered (HTTP 202) in 180 ms, message test-1a2b…
//	shop/teams: refused (HTTP 404) in 95 ms: teams: receiver answered 404 …
func printTestResult(w io.Writer, project string, res api.NotifyTestResult) error {
	line := fmt.Sprintf("%s/%s: %s", project, res.Channel, res.Outcome)
	if res.HTTPStatus != 0 {
		line += fmt.Sprintf(" (HTTP %d)", res.HTTPStatus)
	}
	line += fmt.Sprintf(" in %d ms", res.DurationMS)
	if res.OK {
		line += ", message " + res.MessageID
	} else {
		line += ": " + res.Error
	}
	if res.Outcome == notify.TestFailed {
		line += "\n  it may pass: real messages are retried for 24 hours"
	}
	if res.Resolved != "" {
		line += "\n  resolved " + res.Resolved
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
