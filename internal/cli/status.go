package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// monitorCommands are `phoenix status` and `phoenix alerts`. For now they
// run in-process over --data's state.db (what the server's monitor wrote).
func monitorCommands(g *Globals) []*cobra.Command {
	return []*cobra.Command{newStatusCmd(g), newAlertsCmd(g)}
}

// localMonitor is a monitor opened in this process over --data.
type localMonitor struct {
	*monitor.Monitor
	db *store.DB
}

func (l *localMonitor) close() { l.db.Close() }

func (g *Globals) openMonitor(ctx context.Context) (*localMonitor, error) {
	if g.Server != "" {
		return nil, usererr.New(usererr.Usage, "phoenix status and phoenix alerts do not talk to --server yet").
			WithHint("run them on the server's host with --data")
	}
	db, err := store.OpenSQLite(ctx, filepath.Join(g.Data, "state.db"))
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, monitor.Migrations(), notify.Migrations()); err != nil {
		db.Close()
		return nil, err
	}
	m, err := monitor.New(monitor.Options{DB: db, Logger: slog.New(slog.DiscardHandler), Proc: "-"})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &localMonitor{Monitor: m, db: db}, nil
}

// envReport is one line of phoenix status.
type envReport struct {
	monitor.EnvStatus
	Project    string    `json:"project,omitempty"`
	Release    string    `json:"release,omitempty"`
	Deployment int64     `json:"deployment,omitempty"`
	DeployedAt time.Time `json:"deployed_at,omitzero"`
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
	m, err := g.openMonitor(ctx)
	if err != nil {
		return err
	}
	defer m.close()
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	reports := map[string]*envReport{}
	var order []string
	add := func(env string) *envReport {
		if reports[env] == nil {
			reports[env] = &envReport{EnvStatus: monitor.EnvStatus{Environment: env, Health: monitor.HealthUnknown,
				Endpoints: []monitor.EndpointStatus{}, Alerts: []monitor.Alert{}}}
			order = append(order, env)
		}
		return reports[env]
	}
	for _, r := range activeReleases(ctx, m.db) {
		e := add(r.Environment)
		e.Project, e.Release, e.Deployment, e.DeployedAt = r.Project, r.Deployment.Release, r.Deployment.ID, r.Deployment.CreatedAt
	}
	for _, s := range st {
		e := add(s.Environment)
		e.EnvStatus = s
	}
	out := make([]envReport, 0, len(order))
	for _, env := range order {
		out = append(out, *reports[env])
	}
	return g.emit(out, func(w io.Writer) error { return printStatus(w, out) })
}

// activeReleases lists what each environment serves, if deployments exist.
func activeReleases(ctx context.Context, db *store.DB) []deploy.Release {
	if v, err := db.SchemaVersion(ctx, "deploy"); err != nil || v == 0 {
		return nil
	}
	rs, err := deploy.New(deploy.Options{DB: db}).Active(ctx)
	if err != nil {
		return nil
	}
	return rs
}

func printStatus(w io.Writer, rs []envReport) error {
	if len(rs) == 0 {
		fmt.Fprintln(w, "nothing deployed or monitored yet (see 'phoenix deploy' and monitor.endpoints in phoenix.yaml)")
		return nil
	}
	t := newTable(w, "environment", "health", "release", "deployed", "alerts", "sla 24h", "7d", "30d")
	for _, r := range rs {
		deployed := ""
		if !r.DeployedAt.IsZero() {
			deployed = r.DeployedAt.UTC().Format("2006-01-02 15:04")
		}
		t.row(r.Environment, r.Health, dash(r.Release), dash(deployed), len(r.Alerts), slaCell(r.SLA.Day), slaCell(r.SLA.Week), slaCell(r.SLA.Month))
	}
	if err := t.flush(); err != nil {
		return err
	}
	for _, r := range rs {
		for _, a := range r.Alerts {
			fmt.Fprintf(w, "  %s %s %s: %s\n", r.Environment, strings.ToUpper(a.State), a.Rule, a.Summary)
		}
		for _, ep := range r.Endpoints {
			mark, detail := "ok  ", fmt.Sprintf("%.0f ms", ep.ResponseMS)
			if !ep.Up {
				mark, detail = "DOWN", ep.Error
			}
			fmt.Fprintf(w, "  %s %s/%s  %s  (30d %s)\n", mark, r.Environment, ep.Name, detail, slaCell(ep.SLA.Month))
		}
	}
	return nil
}

func slaCell(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.3f%%", *p)
}
