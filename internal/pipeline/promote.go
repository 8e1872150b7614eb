package pipeline

import (
	"context"
	"slices"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// promotions returns, for each of envs that promotes from another
// environment the release does not go to and that ran an artifact of
// version, where its deploy takes that artifact from; spec.Plan.Promote
// leaves the build out when every environment has one. It decides on the
// server's state when the release is planned: an environment's stored
// promote_from, else phoenix.yaml's (what the deploy step declares where
// the server has none). An environment whose source ran no artifact of
// the version has none, so the run builds and its deploy is refused as
// before, saying why.
func (s *Service) promotions(ctx context.Context, cfg *config.Config, version string, envs []string) ([]spec.Promotion, error) {
	p, ok := s.opts.Deps.Deployer.(action.Promoter)
	if !ok {
		return nil, nil
	}
	var out []spec.Promotion
	for _, env := range envs {
		from, err := p.PromoteFrom(ctx, cfg.Project.Name, env)
		if err != nil {
			return nil, err
		}
		if e := cfg.Environments[env]; from == "" && e != nil {
			from = e.PromoteFrom
		}
		if from == "" || slices.Contains(envs, from) {
			continue // the run deploys its own build there first
		}
		ran, err := p.Promotable(ctx, cfg.Project.Name, from, version)
		if err != nil {
			return nil, err
		}
		if ran != nil {
			out = append(out, spec.Promotion{Env: env, From: from, Deployment: ran.Deployment, Run: ran.Run})
		}
	}
	return out, nil
}
