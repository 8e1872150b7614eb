package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Omitted is a stage of the project's pipeline that a release plan left
// out, kept with the run so that a stage that did not run is a recorded
// fact, not one that is missing.
type Omitted struct {
	// Stage is "" for the default pipeline's build steps a promotion left
	// out (Plan.Promote).
	Stage string   `json:"stage"`
	Steps []string `json:"steps"` // the IDs its steps would have had
	// Environments are those it acts on; none when it was left out for
	// needing only stages that were.
	Environments []string `json:"environments,omitempty"`
	// Reason is "acts on production, not in --env staging" or "needs only
	// stages left out (prod)".
	Reason string `json:"reason"`
	// BuiltBy is, for a promotion's build steps, the run that built the
	// artifact its deploys take: its gates checked that artifact.
	BuiltBy string `json:"built_by,omitempty"`
}

// Why is o as a sentence: "stage prod acts on production, not in --env
// staging", or a promotion's reason alone (no stage).
func (o Omitted) Why() string {
	if o.Stage == "" {
		return o.Reason
	}
	return "stage " + o.Stage + " " + o.Reason
}

// OmittedNote is one line saying which stages p left out and why, ""
// when it left out none: a run's message says it.
func (p *Plan) OmittedNote() string {
	if len(p.Omitted) == 0 {
		return ""
	}
	whys := make([]string, len(p.Omitted))
	for i, o := range p.Omitted {
		whys[i] = o.Why()
	}
	return "skipped: " + strings.Join(whys, "; ")
}

// OmittedStep returns the left-out stage step id belonged to, or nil.
func (p *Plan) OmittedStep(id string) *Omitted {
	for i := range p.Omitted {
		if slices.Contains(p.Omitted[i].Steps, id) {
			return &p.Omitted[i]
		}
	}
	return nil
}

// leaveOut removes from p, the plan of stages, the stages that act only
// on environments outside envs (their environment and their steps'
// environment inputs), then those that act on none and need only stages
// left out, and records them in p.Omitted. A step kept that needed a step
// left out needs what that one needed instead, so a production stage that
// follows staging follows staging's own needs (the build) in a release to
// production alone. A stage acting on one of envs and on another too is
// kept: Outside refuses its step.
func (p *Plan) leaveOut(cfg *config.Config, envs []string) {
	byStage := map[string][]*Step{}
	for _, s := range p.Steps {
		byStage[s.Stage] = append(byStage[s.Stage], s)
	}
	acts := map[string][]string{}
	for _, st := range cfg.Pipeline.Stages {
		var on []string
		if st.Environment != "" {
			on = append(on, st.Environment)
		}
		for _, s := range byStage[st.Name] {
			for _, env := range s.Environments() {
				if !slices.Contains(on, env) {
					on = append(on, env)
				}
			}
		}
		acts[st.Name] = on
	}
	named := namedEnvironments(cfg, envs)
	reasons := map[string]string{}
	for changed := true; changed; { // until the needs-only rule finds no more
		changed = false
		for _, st := range cfg.Pipeline.Stages {
			if _, gone := reasons[st.Name]; gone {
				continue
			}
			on := acts[st.Name]
			switch {
			case len(on) > 0 && !slices.ContainsFunc(on, func(env string) bool { return slices.Contains(envs, env) }):
				reasons[st.Name] = fmt.Sprintf("acts on %s, not in %s", strings.Join(on, ", "), named)
			case len(on) == 0 && len(st.Needs) > 0 && !slices.ContainsFunc(st.Needs, func(n string) bool { _, gone := reasons[n]; return !gone }):
				reasons[st.Name] = fmt.Sprintf("needs only stages left out (%s)", strings.Join(st.Needs, ", "))
			default:
				continue
			}
			changed = true
		}
	}
	if len(reasons) == 0 {
		return
	}
	gone := map[string]*Step{}
	for _, st := range cfg.Pipeline.Stages {
		reason, ok := reasons[st.Name]
		if !ok {
			continue
		}
		o := Omitted{Stage: st.Name, Reason: reason}
		if !strings.HasPrefix(reason, "needs only") {
			o.Environments = acts[st.Name]
		}
		for _, s := range byStage[st.Name] {
			o.Steps = append(o.Steps, s.ID)
			gone[s.ID] = s
		}
		p.Omitted = append(p.Omitted, o)
	}
	kept := p.Steps[:0:0]
	for _, s := range p.Steps {
		if gone[s.ID] == nil {
			s.Needs = through(s.Needs, gone, map[string]bool{})
			kept = append(kept, s)
		}
	}
	p.Steps = kept
}

// through is needs with each step of gone replaced by what it needed, in
// order, each once; seen guards against a cycle (Validate reports those).
func through(needs []string, gone map[string]*Step, seen map[string]bool) []string {
	var out []string
	for _, n := range needs {
		next := []string{n}
		if g := gone[n]; g != nil {
			if seen[n] {
				continue
			}
			seen[n] = true
			next = through(g.Needs, gone, seen)
		}
		for _, m := range next {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// namedEnvironments says where a release's envs were named, as a reason
// for leaving a stage out says it: "--env staging", "release.environments
// (staging)", or "the declared environments (staging, production)".
func namedEnvironments(cfg *config.Config, envs []string) string {
	switch {
	case !slices.Equal(envs, cfg.ReleaseEnvironments()):
		return "--env " + strings.Join(envs, ",")
	case len(cfg.Release.Environments) > 0:
		return "release.environments (" + strings.Join(envs, ", ") + ")"
	}
	return "the declared environments (" + strings.Join(envs, ", ") + ")"
}

// Outside reports each step of release plan p that acts on an environment
// the release does not go to. The release's environments are what
// deploy permission is checked on and what the run locks, so a stage for
// production in a release to staging would deploy there unchecked. A
// release leaves out the stages that act only on other environments
// (FromConfig), so what is left is a step acting on one of them and on
// another, or one of its stage's steps acting on another.
func Outside(p *Plan, envs []string) Problems {
	var out Problems
	for _, s := range p.Steps {
		for _, env := range s.Environments() {
			if !slices.Contains(envs, env) {
				out = append(out, Problem{Message: fmt.Sprintf("pipeline: step %s acts on environment %s, which the release does not go to (%s)",
					s.ID, env, strings.Join(envs, ", ")),
					Hint: "release to it too (--env " + env + " or release.environments), or move the step to a stage of its own for " + env +
						": a release leaves out the stages that act only on environments it does not go to"})
			}
		}
	}
	return out
}

// unserved reports each environment of envs that no step of release plan
// p acts on while p left out stages for other environments: a release
// to qa of a pipeline with stages for staging and production alone would
// build and deploy nowhere. (A pipeline none of whose stages names an
// environment serves the release's with its steps, and one that left
// nothing out is refused nothing here.)
func unserved(p *Plan, envs []string) Problems {
	if len(p.Omitted) == 0 {
		return nil
	}
	on := p.Environments()
	all := slices.Clone(on)
	for _, o := range p.Omitted {
		for _, env := range o.Environments {
			if !slices.Contains(all, env) {
				all = append(all, env)
			}
		}
	}
	var out Problems
	for _, env := range envs {
		if !slices.Contains(on, env) {
			out = append(out, Problem{Message: fmt.Sprintf("release: no stage of the pipeline acts on %s (its stages act on %s)", env, strings.Join(all, ", ")),
				Hint: "add a stage with environment: " + env + ", or release to one of those"})
		}
	}
	return out
}
