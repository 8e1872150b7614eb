package cli

import (
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

func newProjectConfigCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "config PROJECT",
		Short: "Show which phoenix.yaml the server uses for a project's probes, alerts, channels and health checks",
		Long: `Show the phoenix.yaml the server uses for a project: where it came from
(a release when its run was accepted, or 'phoenix deploy'; the newest
wins) and when, its digest, and the names of its probes, alert rules,
notification channels and health checks. No URL or secret is shown, nor
what you may not read: another environment's checks, probes and alert
rules, or the release that stored the file when its run is not one you
may see.`,
		Example: "  phoenix projects config shop\n  phoenix projects config shop -o json",
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return runProjectConfig(cmd.Context(), g, args[0]) },
	}
}

func runProjectConfig(ctx context.Context, g *Globals, project string) error {
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	s, err := t.client.Config(ctx, project)
	if err != nil {
		return err
	}
	return g.emit(s, func(w io.Writer) error { return printProjectConfig(w, s) })
}

func printProjectConfig(w io.Writer, s *projectcfg.Summary) error {
	tb := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)} // no header: one field a line
	tb.row("project", s.Project)
	tb.row("from", s.From)
	if s.Entry != nil {
		tb.row("at", s.At.Local().Format(time.DateTime))
		tb.row("sha256", s.Digest)
	}
	tb.row("probes", dash(strings.Join(s.Probes, ", ")))
	tb.row("alert rules", dash(strings.Join(s.AlertRules, ", ")))
	tb.row("channels", dash(strings.Join(s.Channels, ", ")))
	if s.ChannelError != "" {
		tb.row("", "not loaded: "+s.ChannelError)
	}
	var checks []string
	for _, env := range slices.Sorted(maps.Keys(s.HealthChecks)) {
		checks = append(checks, env+": "+strings.Join(s.HealthChecks[env], ", "))
	}
	tb.row("health checks", dash(strings.Join(checks, "; ")))
	return tb.flush()
}
