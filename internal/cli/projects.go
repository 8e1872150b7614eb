package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

func newProjectsCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "projects",
		Short: "List the projects you may read, with their environments and what each serves",
		Long: `List every project you may read and its environments: kind, domains and the
active deployment (id and release), or "no deployment yet" for an
environment declared in phoenix.yaml that nothing was deployed to.`,
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
}

// projectsTable is one row per environment (a project without any has one
// row of its own).
func projectsTable(w io.Writer, ps []deploy.Project) error {
	tb := newTable(w, "project", "environment", "kind", "domains", "deployment", "release", "deployed")
	for _, p := range ps {
		if len(p.Environments) == 0 {
			tb.row(p.Name, "-", "-", "-", "-", "-", "-")
		}
		for _, e := range p.Environments {
			if e.Deployment == 0 {
				tb.row(p.Name, e.Name, e.Kind, dash(strings.Join(e.Domains, ",")), "no deployment yet", "-", "-")
				continue
			}
			tb.row(p.Name, e.Name, e.Kind, dash(strings.Join(e.Domains, ",")), e.Deployment, dash(e.Release),
				e.DeployedAt.Local().Format(time.DateTime))
		}
	}
	return tb.flush()
}
