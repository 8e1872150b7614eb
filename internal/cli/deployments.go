package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

func newDeploymentsCmd(g *Globals) *cobra.Command {
	o := &deployOptions{}
	var limit int
	var history bool
	cmd := &cobra.Command{
		Use:   "deployments --env ENV [--history]",
		Short: "List an environment's deployments, newest first",
		Long: `List an environment's deployments, newest first, with which one is active.

With --history, list what the environment served when instead: every deploy
and rollback (automatic ones with the failed verification), newest first, each
with how long it stayed live. It answers "what was live in production at
14:32 yesterday?" when an incident is looked into.`,
		Example: "  phoenix deployments --env production\n  phoenix deployments --env production --history\n" +
			"  phoenix deployments --env staging -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if history {
				return runActivations(cmd.Context(), g, o, limit)
			}
			return runDeployments(cmd.Context(), g, o, limit)
		},
	}
	projectFlags(cmd, o)
	cmd.Flags().IntVar(&limit, "limit", 20, "how many to show")
	cmd.Flags().BoolVar(&history, "history", false, "list every deploy and rollback, with how long each stayed live")
	cmd.MarkFlagRequired("env")
	return cmd
}

func projectFlags(cmd *cobra.Command, o *deployOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.env, "env", "e", "", "environment, e.g. staging or production")
	f.StringVarP(&o.project, "project", "p", "", "project name (default: project.name in phoenix.yaml)")
	f.StringVarP(&o.config, "config", "c", "phoenix.yaml", "project file")
}

func runDeployments(ctx context.Context, g *Globals, o *deployOptions, limit int) error {
	items, err := envListing[deploy.Deployment](ctx, g, o, "deployments", limit)
	if err != nil {
		return err
	}
	return g.emit(items, func(w io.Writer) error {
		tb := newTable(w, "id", "status", "release", "artifact", "created", "live since", "actor", "message")
		for _, d := range items {
			live := "-"
			if d.LiveSince != nil {
				live = d.LiveSince.Local().Format(time.DateTime)
			}
			tb.row(d.ID, statusOf(d), dash(d.Release), short(string(d.Artifact)), d.CreatedAt.Local().Format(time.DateTime), live,
				dash(d.Actor), dash(d.Message))
		}
		return tb.flush()
	})
}

func runActivations(ctx context.Context, g *Globals, o *deployOptions, limit int) error {
	items, err := envListing[deploy.EnvActivation](ctx, g, o, "activations", limit)
	if err != nil {
		return err
	}
	now := time.Now()
	return g.emit(items, func(w io.Writer) error {
		tb := newTable(w, "live from", "live for", "action", "deployment", "release", "actor", "why")
		for _, a := range items {
			until, live := now, "* "
			if a.Until != nil {
				until, live = *a.Until, ""
			}
			tb.row(a.At.Local().Format(time.DateTime), live+compactDuration(until.Sub(a.At).Round(time.Second)), a.Action,
				a.Deployment, dash(a.Release), dash(a.Actor), dash(a.Detail))
		}
		return tb.flush()
	})
}

// envListing reads the newest limit items of o's environment's list what
// (deployments or activations) from the server.
func envListing[T any](ctx context.Context, g *Globals, o *deployOptions, what string, limit int) ([]T, error) {
	if err := g.checkLimit(limit); err != nil {
		return nil, err
	}
	project, _, t, err := g.projectTarget(ctx, o)
	if err != nil {
		return nil, err
	}
	defer t.close()
	var out struct {
		Items []T `json:"items"`
	}
	path := client.Path("projects", project, "environments", o.env, what) + fmt.Sprintf("?limit=%d", limit)
	return out.Items, t.client.Do(ctx, "GET", path, nil, &out)
}

// maxFailureCell is how much of a failure the STATUS cell shows: a release
// run's failed steps fit ("health-check/production"); the server's
// verification quotes the page its probe got, which pushed every later
// column off the screen. -o json has it whole.
const maxFailureCell = 60

// statusOf is a deployment's STATUS cell: "* active" (starred), "failed:
// WHAT" for one that failed verification and was taken back, "rolled back"
// for one a rollback went past, "-" for one a later deployment replaced;
// with where the server's verification stands when it did not pass:
// ", verification pending" (it runs, or a stop cut it short and the next
// start runs it again), ", failed verification" (kept: rollback.auto is
// off), ", not verified" (replaced before a verdict), ", run N's health
// check pending" (its pipeline run verifies it and has not yet).
func statusOf(d deploy.Deployment) string {
	failed := "failed: " + clipCell(d.Failure, maxFailureCell)
	note := map[string]string{deploy.VerifyPending: ", verification pending", deploy.VerifyFailed: ", failed verification",
		deploy.VerifySuperseded: ", not verified", deploy.VerifyByRun: ", run " + d.Run + "'s health check pending"}[d.Verification]
	switch {
	case d.Active && d.Failure != "":
		return "* active, " + failed
	case d.Active:
		return "* active" + note
	case d.Failure != "":
		return failed
	case d.Status == deploy.StatusRolledBack:
		return "rolled back" + note
	case note != "":
		return strings.TrimPrefix(note, ", ")
	}
	return "-"
}

func newRollbackCmd(g *Globals) *cobra.Command {
	o := &deployOptions{}
	var to int64
	cmd := &cobra.Command{
		Use:   "rollback --env ENV [--to ID]",
		Short: "Re-point an environment at an earlier deployment, instantly",
		Long: `Roll an environment back to the newest deployment before the active one that
passed verification (else, when none did, the newest that did not fail it), or
to deployment --to ID. A deployment that failed
verification (taken back automatically; 'phoenix deployments' shows it as
failed) is skipped, and --to naming one is refused: deploy that build again to
retry it. Nothing is rebuilt or uploaded: the edge switches its pointer, so
the old release is served within milliseconds.`,
		Example: "  phoenix rollback --env production\n  phoenix rollback --env production --to 41",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRollback(cmd.Context(), g, o, to)
		},
	}
	projectFlags(cmd, o)
	cmd.Flags().Int64Var(&to, "to", 0, "deployment id to return to (default: the newest earlier one that passed verification, else that did not fail it)")
	cmd.MarkFlagRequired("env")
	return cmd
}

func runRollback(ctx context.Context, g *Globals, o *deployOptions, to int64) error {
	project, _, t, err := g.projectTarget(ctx, o)
	if err != nil {
		return err
	}
	defer t.close()
	var res api.DeploymentResponse
	err = t.client.Do(ctx, "POST", client.Path("projects", project, "environments", o.env, "rollback"), api.RollbackRequest{To: to}, &res)
	if err != nil {
		return err
	}
	return g.emit(res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s/%s now serves deployment %d (%s, release %s)\n", project, o.env, res.ID, short(string(res.Artifact)), dash(res.Release))
		return err
	})
}

// liveSince is since when an environment's active deployment is live:
// live, or created (its first deploy) from a server older than live
// since, which does not send it.
func liveSince(live *time.Time, created time.Time) time.Time {
	if live != nil {
		return *live
	}
	return created
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// short abbreviates a digest for tables.
func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
