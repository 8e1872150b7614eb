package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Promotion is one environment of a release that deploys, instead of a
// build of the run's own, the artifact the environment it promotes from
// (promote_from) ran of the version: Deployment there.
type Promotion struct {
	Env        string
	From       string
	Deployment int64
	Run        string // the run that made Deployment; "" for phoenix deploy
}

// PromoteInput is the deploy step's input naming the environment whose
// artifact of the run's version it deploys, with no build of the run's
// own (Promote sets it).
const PromoteInput = "promote_from"

// buildOnly are the actions of the default pipeline that only the run's
// own build needs: the install, the build, the tests and their report,
// the artifact, and the checks that read the build's output or what was
// installed (checkNeeds). The audit reads the lockfile alone and stays.
var buildOnly = []string{"install", "build", "test", "test-report", "create-artifact", "check/secrets", "check/licenses", "check/sbom"}

// BuildsSource reports whether a step of p runs commands in the project
// folder or reads what they leave there: a run: step, or one of the
// build's actions (buildOnly). The engine makes such a run a clean
// checkout of its commit to work in; a promotion (Promote) and a workflow
// of health checks and notifications need none.
func (p *Plan) BuildsSource() bool {
	return slices.ContainsFunc(p.Steps, func(s *Step) bool { return s.Uses == "" || slices.Contains(buildOnly, s.Uses) })
}

// Promote leaves out of p, a release plan of the default pipeline, the
// steps only the run's own build needs, when every environment of the
// release (envs) deploys an artifact another one ran (promos, one for each
// of envs): the deploys would discard that build. Each deploy step is
// given the environment it takes the artifact from (input promote_from).
// The steps left out are recorded in p.Omitted, with the reason, as a
// stage --env left out is. Nothing changes when some environment of envs
// has no promotion.
func (p *Plan) Promote(version string, envs []string, promos []Promotion) {
	byEnv := map[string]Promotion{}
	for _, pr := range promos {
		byEnv[pr.Env] = pr
	}
	for _, env := range envs {
		if _, ok := byEnv[env]; !ok {
			return
		}
	}
	gone := map[string]*Step{}
	var ids []string
	for _, s := range p.Steps {
		if slices.Contains(buildOnly, s.Uses) {
			gone[s.ID] = s
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	kept := p.Steps[:0:0]
	for _, s := range p.Steps {
		if gone[s.ID] != nil {
			continue
		}
		s.Needs = through(s.Needs, gone, map[string]bool{})
		if pr, ok := byEnv[s.Environment]; ok && s.Uses == "deploy" {
			s.With = maps.Clone(s.With) // shared with the environment's other steps
			s.With[PromoteInput] = pr.From
		}
		kept = append(kept, s)
	}
	p.Steps = kept
	p.Omitted = append(p.Omitted, Omitted{Steps: ids, Reason: promotionReason(version, envs, byEnv), BuiltBy: builtBy(envs, byEnv)})
}

// promotionReason says why a promotion left the build out: "promotion:
// production deploys the artifact staging ran of v1.4.2 (deployment 7
// there), not a build of this run".
func promotionReason(version string, envs []string, byEnv map[string]Promotion) string {
	parts := make([]string, len(envs))
	for i, env := range envs {
		pr := byEnv[env]
		parts[i] = fmt.Sprintf("%s deploys the artifact %s ran of %s (deployment %d there, promote_from: %s)",
			env, pr.From, version, pr.Deployment, pr.From)
	}
	return "promotion: " + strings.Join(parts, "; ") + ", not a build of this run"
}

// builtBy is the run whose build every deploy of a promotion takes (the
// run that made each promoted deployment), "" when they differ or one
// was made without a run.
func builtBy(envs []string, byEnv map[string]Promotion) string {
	run := byEnv[envs[0]].Run
	for _, env := range envs[1:] {
		if byEnv[env].Run != run {
			return ""
		}
	}
	return run
}
