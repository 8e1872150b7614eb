package app

import (
	"context"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
	"github.com/phoenixvc/phoenix/internal/edgepolicy"
)

// A project's edge policy (phoenix.yaml's edge:, stored by deploy) is
// applied to each of its environments at every publish, read from the
// database then. A change re-publishes the project's environments here,
// and on the other replicas through DeployChannel and their poll
// (syncEdge compares what each environment applies with what is stored).

// edgePolicy is the edge's policy for a project's stored edge: section,
// its geo lists looked up in --geoip-db (internal/edgepolicy).
func (a *App) edgePolicy(e *config.Edge) (*edge.Policy, error) { return edgepolicy.Build(e, a.geo) }

// checkEdgePolicy is deploy's CheckEdge: the edge must be able to apply
// a policy before it is stored.
func (a *App) checkEdgePolicy(_ context.Context, _ string, e *config.Edge) error {
	_, err := a.edgePolicy(e)
	return err
}

// policyOf reads project's policy and builds it for the edge; it also
// returns the canonical form, to tell later whether it changed.
func (a *App) policyOf(ctx context.Context, project string) (*edge.Policy, string, error) {
	e, err := a.Deploy.EdgePolicy(ctx, project)
	if err != nil {
		return nil, "", err
	}
	p, err := a.edgePolicy(e)
	if err != nil {
		return nil, "", err
	}
	canon, err := e.Canonical()
	return p, string(canon), err
}

// republish applies project's changed policy to its environments, and
// routes an environment it declared that has nothing deployed yet. One
// read of the environments serves both, under edge.mu (as syncReleases's):
// read before it, an environment deleted meanwhile (unpublished) would be
// published again, and on a lone server no poll would take it back.
func (a *App) republish(ctx context.Context, project string) {
	a.edge.mu.Lock()
	defer a.edge.mu.Unlock()
	envs, err := a.Deploy.Environments(ctx, "")
	if err != nil {
		a.log.Error("edge: read the environments for a policy change", "project", project, "err", err)
		return
	}
	defer a.routeUndeployedLocked(envs) // undeployed.go; also when what follows fails
	active, err := a.Deploy.ActiveIn(ctx, envs)
	if err != nil {
		a.log.Error("edge: read the active deployments for a policy change", "project", project, "err", err)
		return
	}
	for _, r := range active {
		if r.Project != project {
			continue
		}
		if err := a.publishLocked(ctx, r); err != nil {
			a.log.Error("edge: cannot apply the edge policy", "project", project, "env", r.Environment, "err", err)
		}
	}
}
