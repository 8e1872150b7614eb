package spec

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/scan/policy"
)

// FromConfig returns the release plan of cfg for envs (in order): the
// project's pipeline stages when it has any, otherwise Default. Steps of a
// stage with an environment whose protection asks for approvals wait behind
// an approval gate. Of the stages, the plan keeps those that act on envs
// and what they need: a stage that acts only on other environments is left
// out (Plan.Omitted), and so is one acting on none that needs only stages
// left out.
func FromConfig(cfg *config.Config, envs []string) (*Plan, error) {
	p, err := fullPlan(cfg, envs)
	if err != nil || len(cfg.Pipeline.Stages) == 0 {
		return p, err
	}
	p.leaveOut(cfg, envs)
	return p, nil
}

// fullPlan is the release plan of cfg for envs with every stage of its
// pipeline, none left out: what Validate checks, so that a stage is
// checked in a release that leaves it out too.
func fullPlan(cfg *config.Config, envs []string) (*Plan, error) {
	if len(cfg.Pipeline.Stages) == 0 {
		return Default(cfg, envs), nil
	}
	p := &Plan{Name: "release", Disabled: disabledChecks(cfg)}
	stageSteps := map[string][]string{}
	for _, st := range cfg.Pipeline.Stages {
		var entry []string
		for _, need := range st.Needs {
			entry = append(entry, stageSteps[need]...)
		}
		if env := st.Environment; env != "" {
			if gate := approvalStep(cfg, env, st.Name+"/approval", entry); gate != nil {
				gate.Stage = st.Name
				p.Steps = append(p.Steps, gate)
				stageSteps[st.Name] = append(stageSteps[st.Name], gate.ID)
				entry = []string{gate.ID}
			}
		}
		steps, err := fromSteps(st.Name, st.Steps, entry)
		if err != nil {
			return nil, err
		}
		for _, s := range steps {
			s.Env = merged(map[string]string(st.Env), s.Env)
			s.Secrets = append(slices.Clone(st.Secrets), s.Secrets...)
			if st.If != "" && s.If == Success {
				if s.If, err = ParseCondition(st.If); err != nil {
					return nil, fmt.Errorf("pipeline stage %s: %w", st.Name, err)
				}
			}
			if s.Environment == "" {
				s.Environment = st.Environment
			}
			stageSteps[st.Name] = append(stageSteps[st.Name], s.ID)
		}
		p.Steps = append(p.Steps, steps...)
	}
	return p, nil
}

// FromWorkflow returns the plan of a named workflow.
func FromWorkflow(name string, w *config.Workflow) (*Plan, error) {
	steps, err := fromSteps("", w.Steps, nil)
	if err != nil {
		return nil, fmt.Errorf("workflow %s: %w", name, err)
	}
	return &Plan{Name: name, Steps: steps}, nil
}

// fromSteps converts a list of configured steps. Without needs a step
// follows the previous one; entry is what the first steps need.
func fromSteps(stage string, list []config.Step, entry []string) ([]*Step, error) {
	id := func(name string) string {
		if stage == "" {
			return name
		}
		return stage + "/" + name
	}
	var out []*Step
	for i, cs := range list {
		cond, err := ParseCondition(cs.If)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", id(cs.Name), err)
		}
		s := &Step{ID: id(cs.Name), Name: cs.Name, Stage: stage, Run: cs.Run, Uses: cs.Uses, With: cs.With,
			If: cond, Timeout: cs.Timeout.D(), Retries: cs.Retries, Backoff: DefaultBackoff,
			Env: maps.Clone(map[string]string(cs.Env)), Secrets: slices.Clone(cs.Secrets), ContinueOnError: cs.ContinueOnError,
			Dir: cs.Dir}
		if s.Timeout == 0 {
			s.Timeout = DefaultTimeout
		}
		if env, ok := cs.With["environment"].(string); ok {
			s.Environment = env
		}
		switch {
		case len(cs.Needs) > 0:
			for _, n := range cs.Needs {
				s.Needs = append(s.Needs, id(n))
			}
			s.Needs = append(s.Needs, entry...)
		case i > 0:
			s.Needs = []string{out[i-1].ID}
		default:
			s.Needs = slices.Clone(entry)
		}
		out = append(out, s)
	}
	return out, nil
}

// approvalStep returns the gate for env, or nil when it needs no approval.
func approvalStep(cfg *config.Config, env, id string, needs []string) *Step {
	e := cfg.Environments[env]
	if e == nil || e.Protection.Approvals <= 0 {
		return nil
	}
	return &Step{ID: id, Name: "approval", Uses: ApprovalAction, Needs: slices.Clone(needs), If: Success,
		Environment: env, Approvals: e.Protection.Approvals, Approvers: slices.Clone(e.Protection.Approvers)}
}

func merged(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

// Default is the seed's release flow for envs, in order:
//
//	validate-tag
//	  -> in parallel: check/audit,
//	     install (the dependencies, once) -> in parallel:
//	       build (then check/secrets, over the source and the fresh output,
//	       and check/licenses, check/sbom, over what was installed),
//	       test-<suite> for each configured suite (then test-report)
//	  -> fetch-secrets -> create-artifact
//	  -> per environment: [approval] -> in parallel {deploy, purge-cache,
//	     monitoring, register-workflows} -> health-check [-> load-test]
//	  -> notify on success; rollback and a critical alert on failure.
func Default(cfg *config.Config, envs []string) *Plan {
	p := &Plan{Name: "release", Disabled: disabledChecks(cfg)}
	add := func(s *Step) *Step {
		if s.If == "" {
			s.If = Success
		}
		if s.Timeout == 0 {
			s.Timeout = DefaultTimeout
		}
		if s.Backoff == 0 {
			s.Backoff = DefaultBackoff
		}
		p.Steps = append(p.Steps, s)
		return s
	}
	tag := add(&Step{ID: "validate-tag", Name: "validate-tag", Uses: "validate-tag", Timeout: time.Minute})
	gates := defaultGates(cfg, tag.ID, add)
	fetch := add(&Step{ID: "fetch-secrets", Name: "fetch-secrets", Uses: "fetch-secrets", Needs: gates})
	art := add(&Step{ID: "create-artifact", Name: "create-artifact", Uses: "create-artifact", Needs: []string{fetch.ID, "build"}})
	last := art.ID
	for _, env := range envs {
		last = defaultEnv(cfg, env, last, add)
	}
	with := map[string]any{"environments": anyList(envs)}
	add(&Step{ID: "notify", Name: "notify", Uses: "notify", Needs: []string{last},
		With: map[string]any{"event": "release.succeeded"}})
	rb := add(&Step{ID: "rollback", Name: "rollback", Uses: "rollback", Needs: []string{last}, If: Failure, With: with})
	add(&Step{ID: "alert", Name: "alert", Uses: "notify", Needs: []string{rb.ID}, If: Failure,
		With: map[string]any{"event": "release.failed", "severity": 0}})
	return p
}

// disabledChecks are the checks cfg turns off, for the plan to record:
// Default leaves them out; a pipeline of one's own may run one all the
// same, by a step that uses check/NAME.
func disabledChecks(cfg *config.Config) []DisabledCheck {
	var out []DisabledCheck
	for _, c := range policy.Checks(cfg) {
		if !c.Enabled {
			out = append(out, DisabledCheck{Check: c.Name, Setting: c.Setting() + ": false", At: c.At})
		}
	}
	return out
}

// defaultGates adds the install, the build, the checks and the tests and
// returns their IDs. The install runs once, first: the build (which does
// not install again) and the test suites then run side by side on what it
// installed. Beside an install (npm ci deletes node_modules, then writes
// it anew) a suite read node_modules half installed, or gone, and passed
// or failed with the timing. The checks run beside them, but for those
// that read the build's output or the installed packages (checkNeeds).
func defaultGates(cfg *config.Config, after string, add func(*Step) *Step) []string {
	var ids []string
	install := add(&Step{ID: "install", Name: "install", Uses: "install", Needs: []string{after}, Timeout: cfg.Build.Timeout.D()})
	needs := []string{install.ID}
	build := add(&Step{ID: "build", Name: "build", Uses: "build", Needs: needs, Timeout: cfg.Build.Timeout.D(),
		With: map[string]any{"install": false}})
	for _, c := range policy.Checks(cfg) { // the checks phoenix check runs too
		if c.Enabled {
			ids = append(ids, add(&Step{ID: "check-" + c.Name, Name: "check-" + c.Name, Uses: "check/" + c.Name,
				Needs: checkNeeds(c.Name, after, build.ID), Dir: cfg.Build.App}).ID)
		}
	}
	ids = append(ids, install.ID, build.ID)
	var tests []string
	for _, kind := range []string{"unit", "integration", "e2e", "load"} {
		suite := cfg.Tests.Suites()[kind]
		if suite == nil {
			continue
		}
		s := add(&Step{ID: "test-" + kind, Name: "test-" + kind, Uses: "test", With: map[string]any{"suite": kind},
			Needs: needs, Timeout: suite.Timeout.D(), ContinueOnError: suite.Optional, Dir: cfg.Build.App})
		tests = append(tests, s.ID)
	}
	ids = append(ids, tests...)
	if len(tests) > 0 {
		ids = append(ids, add(&Step{ID: "test-report", Name: "test-report", Uses: "test-report",
			Needs: tests, If: Always, With: map[string]any{"steps": anyList(tests)}}).ID)
	}
	return ids
}

// checkNeeds is what check kind waits for. The secret scan covers the
// build output too, so it runs after the build, on the output the artifact
// is made of (never a copy an earlier build left behind, nor one half
// written). The licence check and the SBOM (which carries licences) read
// the installed packages' package.json (all there is for pnpm, yarn and
// npm v1 lockfiles), which the build's install writes: beside it they
// would read node_modules half installed, or an earlier install's. The
// audit reads the lockfile alone and runs beside the build.
func checkNeeds(kind, after, build string) []string {
	switch kind {
	case "secrets", "licenses", "sbom":
		return []string{build}
	}
	return []string{after}
}

// defaultEnv adds one environment's gate, deployment group, health check
// and load test (when it has a load_test) after step after, and returns
// the last one's ID.
func defaultEnv(cfg *config.Config, env, after string, add func(*Step) *Step) string {
	needs := []string{after}
	if gate := approvalStep(cfg, env, "approval/"+env, needs); gate != nil {
		needs = []string{add(gate).ID}
	}
	with := map[string]any{"environment": env}
	var group []string
	for _, a := range []string{"deploy", "purge-cache", "monitoring", "register-workflows"} {
		group = append(group, add(&Step{ID: a + "/" + env, Name: a, Uses: a, Needs: needs, Environment: env, With: with}).ID)
	}
	last := add(&Step{ID: HealthCheckAction + "/" + env, Name: HealthCheckAction, Uses: HealthCheckAction, Needs: group,
		Environment: env, With: with, Timeout: 5 * time.Minute}).ID
	if e := cfg.Environments[env]; e != nil && len(e.LoadTest) > 0 {
		last = add(loadTestStep(env, e.LoadTest, last)).ID
	}
	return last
}

// loadTestStep is environment env's load_test as a step after the step
// after: the next environment waits for it, and a breached threshold
// fails the release (and rolls it back) like a failed health check.
func loadTestStep(env string, in map[string]any, after string) *Step {
	with := config.EnvLoadTestInputs(env, in)
	timeout := DefaultTimeout
	if lt, err := config.ParseLoadTest(with); err == nil {
		timeout = lt.Duration + lt.Timeout + config.EnvLoadTestTimeout
	}
	return &Step{ID: "load-test/" + env, Name: "load-test", Uses: "load-test", Needs: []string{after},
		Environment: env, With: with, Timeout: timeout}
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
