package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

func newAckCmd(g *Globals) *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:   "ack ID",
		Short: "Acknowledge a pending or firing alert: you are on it",
		Long: `Acknowledge alert ID (the ID column of 'phoenix alerts', RULE@ENV) so others
know someone is on it: who, when and --comment show in 'phoenix alerts', on
the dashboard and in an alert.acknowledged message to the alert's channels.
Its repeat reminders are held back; other alerts notify as before. The
acknowledgement ends when the alert resolves and fires again, or with
'phoenix alerts unack ID'. Needs deploy in the alert's environment (host
alerts: env.write), as silences do.`,
		Example: `  phoenix alerts ack HighErrorRate@production.shop --comment "rolling back the CDN change"`,
		Args:    cobra.ExactArgs(1),
		RunE: alertChange(g, func(ctx context.Context, c *client.Client, id string) (monitor.Alert, error) {
			return c.AckAlert(ctx, id, comment)
		}, func(a monitor.Alert) string {
			return fmt.Sprintf("%s (%s) acknowledged by %s", a.ID, a.State, a.Ack.By)
		}),
	}
	cmd.Flags().StringVar(&comment, "comment", "", "what you are doing about it")
	return cmd
}

func newUnackCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "unack ID",
		Example: `  phoenix alerts unack HighErrorRate@production.shop`,
		Short:   "Remove an alert's acknowledgement: nobody is on it",
		Args:    cobra.ExactArgs(1),
		RunE: alertChange(g, func(ctx context.Context, c *client.Client, id string) (monitor.Alert, error) {
			return c.UnackAlert(ctx, id)
		}, func(a monitor.Alert) string { return a.ID + " is no longer acknowledged" }),
	}
}

// alertChange runs change on the alert named by the command's argument
// and prints the alert (-o json) or say's line.
func alertChange(g *Globals, change func(context.Context, *client.Client, string) (monitor.Alert, error),
	say func(monitor.Alert) string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		g.started = true
		t, err := g.connect(cmd.Context())
		if err != nil {
			return err
		}
		defer t.close()
		a, err := change(cmd.Context(), t.client, args[0])
		if err != nil {
			return err
		}
		return g.emit(a, func(w io.Writer) error {
			_, err := fmt.Fprintln(w, say(a))
			return err
		})
	}
}

// ackLabel is the alerts table's acknowledged column.
func ackLabel(a *monitor.Ack) string {
	if a == nil {
		return "-"
	}
	s := a.By + " " + a.At.Local().Format("15:04")
	if a.Comment != "" {
		s += ": " + a.Comment
	}
	return s
}
