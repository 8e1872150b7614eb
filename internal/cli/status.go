package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// monitorCommands are `phoenix status` and `phoenix alerts`. Like every
// command they go through the REST API (g.connect).
func monitorCommands(g *Globals) []*cobra.Command {
	return []*cobra.Command{newStatusCmd(g), newAlertsCmd(g)}
}

func newStatusCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each environment's deployment, health, open alerts and SLA",
		Long: `Show each environment's active deployment, its health (from the monitor's
probes), the alerts pending or firing, and availability over 24 hours, 7 days
and 30 days.`,
		Example: "  phoenix status\n  phoenix status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g.started = true
			return runStatus(cmd.Context(), g)
		},
	}
}

func runStatus(ctx context.Context, g *Globals) error {
	t, err := g.connect(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	out, err := t.client.Status(ctx)
	if err != nil {
		return err
	}
	reps, repErr := statusReplicas(ctx, t.client)
	return g.emit(statusJSON{Environments: out, Replicas: reps, ReplicasError: repErr}, func(w io.Writer) error {
		if err := printStatus(w, out, time.Now()); err != nil {
			return err
		}
		printReplicasError(w, repErr)
		return printReplicas(w, reps, time.Now()) // status_replicas.go
	})
}

// statusJSON is phoenix status -o json: the environments (GET
// /api/v1/status) and the replicas the table ends with (GET
// /api/v1/replicas), [] on a lone server; ReplicasError says why they
// could not be read, when they could not.
type statusJSON struct {
	Environments  []api.EnvReport    `json:"environments"`
	Replicas      []app.ReplicaState `json:"replicas"`
	ReplicasError string             `json:"replicas_error,omitempty"`
}

// printStatus prints the environments' status at now. An SLA figure over a
// period monitoring began within is marked * and its environment says
// since when. Times are in the local zone, as in 'phoenix alerts' and
// 'phoenix projects'.
func printStatus(w io.Writer, all []api.EnvReport, now time.Time) error {
	rs := slices.DeleteFunc(slices.Clone(all), api.EnvReport.ProjectOnly) // a project's own entry: its NOTIFY lines only
	if len(rs) == 0 {
		fmt.Fprintln(w, "nothing deployed or monitored yet (see 'phoenix deploy' and monitor.endpoints in phoenix.yaml)")
		printNotifyHealth(w, all)
		return nil
	}
	t := newTable(w, "environment", "health", "release", "live since", "alerts", "sla 24h", "7d", "30d")
	for _, r := range rs {
		live := ""
		if at := liveSince(r.LiveSince, r.DeployedAt); !at.IsZero() {
			live = at.Local().Format("2006-01-02 15:04")
		}
		t.row(envLabel(r.Environment), r.Health, releaseCell(r), dash(live), len(r.Alerts),
			slaOver(r.SLA, r.SLA.Day, monitor.SLADay, now), slaOver(r.SLA, r.SLA.Week, monitor.SLAWeek, now), slaOver(r.SLA, r.SLA.Month, monitor.SLAMonth, now))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Health == monitor.HealthUnknown && len(r.Endpoints) == 0 {
			fmt.Fprintf(w, "  %s: health unknown: no probe has reported on it yet (monitor.endpoints in phoenix.yaml)\n", envLabel(r.Environment))
		}
	}
	for _, r := range rs {
		if !r.SLA.Since.IsZero() {
			fmt.Fprintf(w, "  * %s monitored since %s: the SLA covers only that\n", envLabel(r.Environment), r.SLA.Since.Local().Format("2006-01-02 15:04 MST"))
		}
	}
	for _, r := range rs {
		for _, a := range r.Alerts {
			fmt.Fprintf(w, "  %s %s %s: %s%s\n", envLabel(r.Environment), strings.ToUpper(a.State), a.Rule, a.Summary, alertNotes(a))
		}
		for _, ep := range r.Endpoints {
			mark, detail := "ok  ", fmt.Sprintf("%.0f ms", ep.ResponseMS)
			if !ep.Up {
				mark, detail = "DOWN", ep.Error
			}
			fmt.Fprintf(w, "  %s %s/%s  %s  (%s)\n", mark, envLabel(r.Environment), ep.Name, detail, slaWindow(ep.SLA, now))
		}
	}
	printNotifyHealth(w, all)
	return nil
}

// printNotifyHealth says, once per project, what keeps its notifications
// from their channels: one line for channels that did not load, one per
// channel whose last delivery failed for good. Nothing when all is well;
// -o json has the whole of it (api.NotifyHealth).
func printNotifyHealth(w io.Writer, rs []api.EnvReport) {
	seen := map[string]bool{}
	for _, r := range rs {
		h := r.Notifications
		if h == nil || seen[r.Project] {
			continue
		}
		seen[r.Project] = true
		if h.Error != "" {
			fmt.Fprintf(w, "  NOTIFY %s: channels not loaded (%s): %s\n", r.Project, dash(strings.Join(h.Unloaded, ", ")), h.Error)
		}
		for _, f := range h.Failing {
			more := ""
			if f.Failed > 1 {
				more = fmt.Sprintf(", %d failed since %s", f.Failed, f.Since.Local().Format("2006-01-02 15:04"))
			}
			fmt.Fprintf(w, "  NOTIFY %s/%s: %s at %s not delivered%s: %s\n", r.Project, f.Channel, f.Event,
				f.FailedAt.Local().Format("2006-01-02 15:04"), more, f.Error)
		}
	}
}

// alertNotes is what 'phoenix alerts' shows of an alert beside its state:
// " (silenced; acknowledged by alice 09:14: rolling back)", or nothing.
func alertNotes(a monitor.Alert) string {
	var notes []string
	if a.Silenced {
		notes = append(notes, "silenced")
	}
	if a.Ack != nil {
		notes = append(notes, "acknowledged by "+ackLabel(a.Ack))
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// releaseCell is an environment's RELEASE cell: its active release, and
// "(verification pending)" while the server's verification of it has not
// reached a verdict (it runs, or a stop cut it short and the next start
// runs it again), "(health check pending)" while the pipeline run that
// made it has not passed its health checks.
func releaseCell(r api.EnvReport) string {
	switch r.Verification {
	case deploy.VerifyPending:
		return dash(r.Release) + " (verification pending)"
	case deploy.VerifyByRun:
		return dash(r.Release) + " (health check pending)"
	}
	return dash(r.Release)
}

// slaOver is the cell of the figure v over period: marked * when
// monitoring began within the period.
func slaOver(s monitor.SLA, v *float64, period time.Duration, now time.Time) string {
	if v != nil && s.Partial(period, now) {
		return slaCell(v) + "*"
	}
	return slaCell(v)
}

// slaWindow is an endpoint's 30-day figure with its window: "30d 99.950%",
// or "since 2026-11-23 10:17 99.950%" when it was probed first within it.
func slaWindow(s monitor.SLA, now time.Time) string {
	if s.Partial(monitor.SLAMonth, now) {
		return "since " + s.Since.Local().Format("2006-01-02 15:04") + " " + slaCell(s.Month)
	}
	return "30d " + slaCell(s.Month)
}

func slaCell(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f%%", *p)
}

// envLabel shows the monitor's "<env>.<project>" as project/env.
func envLabel(name string) string {
	if monitor.ServerInstance(name) { // a certificate's or a replica's: no project in it
		return name
	}
	if env, project, ok := strings.Cut(name, "."); ok {
		return project + "/" + env
	}
	return name
}
