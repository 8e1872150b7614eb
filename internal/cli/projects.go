package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

func newProjectsCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "projects",
		Short: "List the projects you may read, with their environments and what each serves",
		Long: `List every project you may read and its environments: kind, domains and the
active deployment (id and release), or "no deployment yet" for an
environment declared in phoenix.yaml that nothing was deployed to. A
release the server has not finished verifying says "(verification pending
since TIME)": its verification runs, or a stop or a crash cut it short and
the next server start runs it again; "(failed verification)" is one kept
live after its verification failed (rollback.auto: false).

'phoenix projects config PROJECT' shows which phoenix.yaml the server uses
for the project's probes, alerts, channels and health checks.`,
		Example: "  phoenix projects\n  phoenix projects -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := listAll[deploy.Project](cmd.Context(), g, "/api/v1/projects")
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []deploy.Project{}
			}
			return g.emit(ps, func(w io.Writer) error { return projectsTable(w, ps) })
		},
	}
	cmd.AddCommand(newProjectConfigCmd(g)) // projects_config.go
	return cmd
}

// projectsTable is one row per environment (a project without any has one
// row of its own).
func projectsTable(w io.Writer, ps []deploy.Project) error {
	tb := newTable(w, "project", "environment", "kind", "domains", "deployment", "release", "live since")
	for _, p := range ps {
		if len(p.Environments) == 0 {
			tb.row(p.Name, "-", "-", "-", "-", "-", "-")
		}
		for _, e := range p.Environments {
			if e.Deployment == 0 {
				tb.row(p.Name, e.Name, e.Kind, dash(strings.Join(e.Domains, ",")), "no deployment yet", "-", "-")
				continue
			}
			tb.row(p.Name, e.Name, e.Kind, dash(strings.Join(e.Domains, ",")), e.Deployment, projectRelease(e),
				liveSince(e.LiveSince, e.DeployedAt).Local().Format(time.DateTime))
		}
	}
	return tb.flush()
}

// projectRelease is an environment's RELEASE cell: its active release,
// with where the server's verification of it stands unless it passed or
// the server does not verify it: "(verification pending since TIME)",
// "(failed verification)" (kept live: rollback.auto is off), "(health
// check pending)" (its pipeline run verifies it, and has not yet).
func projectRelease(e deploy.ProjectEnv) string {
	switch e.Verification {
	case deploy.VerifyByRun:
		return dash(e.Release) + " (health check pending)"
	case deploy.VerifyPending:
		since := ""
		if e.VerificationAt != nil {
			since = " since " + e.VerificationAt.Local().Format(time.DateTime)
		}
		return dash(e.Release) + " (verification pending" + since + ")"
	case deploy.VerifyFailed:
		return dash(e.Release) + " (failed verification)"
	}
	return dash(e.Release)
}
