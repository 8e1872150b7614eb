package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

var zeroTime time.Time

// ReleaseRequest asks for a release of the project in Dir.
type ReleaseRequest struct {
	Dir          string   // project folder holding phoenix.yaml, on the server's disk
	Version      string   // e.g. v1.4.2
	Environments []string // default: the release environments of phoenix.yaml, in order
	Actor        string   // who releases (cannot approve it)
	// Commit is the commit to build (a name git knows: a tag, a branch, a
	// commit) when Dir is in a git repository; default HEAD. With InPlace,
	// or outside git, it is only recorded (default: Dir's HEAD, +dirty
	// when it holds uncommitted changes).
	Commit  string
	InPlace bool   // build Dir as it is, not a clean checkout of Commit
	Trigger string // default "release"
	// Config is Dir's phoenix.yaml as the caller's rights were checked on
	// (the API's); nil reads it. Read again, it could have been changed
	// in between to name another project or environments.
	Config *config.Config
}

// Release validates the request and the project's pipeline (every problem
// at once, before anything runs) and queues a run. The run starts when no
// other release holds one of its environments; it is never cancelled to
// make room. The project's workflows are registered on the way.
func (s *Service) Release(ctx context.Context, req ReleaseRequest) (*Run, error) {
	dir, err := filepath.Abs(req.Dir)
	if err != nil {
		return nil, err
	}
	cfg := req.Config
	if cfg == nil {
		if cfg, err = config.Load(filepath.Join(dir, "phoenix.yaml")); err != nil {
			return nil, usererr.Wrap(usererr.Usage, err, err.Error()).WithHint("check it with phoenix validate")
		}
	}
	if _, err := action.ParseVersion(req.Version, cfg.Release.TagPrefix); err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	envs := req.Environments
	if len(envs) == 0 {
		envs = cfg.ReleaseEnvironments()
	}
	if len(envs) == 0 {
		return nil, usererr.New(usererr.Usage, "phoenix.yaml declares no environment to release to").
			WithHint("add environments: {production: {}} or pass --env")
	}
	if err := s.raiseApprovals(ctx, cfg, envs); err != nil {
		return nil, err
	}
	if err := spec.ValidateConfig(cfg, envs, s.opts.Actions.Known); err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, "the pipeline has problems:\n"+err.Error())
	}
	plan, err := spec.FromConfig(cfg, envs)
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	// ValidateConfig refused such a step already; the plan queued is
	// checked itself, as deploy permission was checked on envs alone.
	if ps := spec.Outside(plan, envs); len(ps) > 0 {
		return nil, usererr.Wrap(usererr.Usage, ps, "the pipeline has problems:\n"+ps.Error())
	}
	inProject(dir, plan.Disabled)
	if len(cfg.Pipeline.Stages) == 0 {
		promos, err := s.promotions(ctx, cfg, req.Version, envs)
		if err != nil {
			return nil, err
		}
		plan.Promote(req.Version, envs, promos)
	}
	if err := s.checkTagFirst(ctx, plan, cfg, req.Version, envs); err != nil {
		return nil, err
	}
	if err := s.checkHookSecrets(ctx, cfg); err != nil {
		return nil, err
	}
	if s.opts.Preflight != nil {
		if err := s.opts.Preflight(ctx, plan); err != nil {
			return nil, err
		}
	}
	if err := s.RegisterProject(ctx, dir, cfg); err != nil {
		s.log.Warn("pipeline: workflows not registered", "project", cfg.Project.Name, "err", err)
	}
	commit, checkout, err := s.sourceOf(ctx, dir, req.Commit, req.InPlace, plan)
	if err != nil {
		return nil, err
	}
	r := &Run{Project: cfg.Project.Name, Kind: "release", Version: req.Version, Environments: envs, Commit: commit,
		Actor: req.Actor, Trigger: firstNonEmpty(req.Trigger, "release"), Dir: dir, Checkout: checkout, Plan: plan}
	for _, env := range envs {
		r.keys = append(r.keys, "env:"+cfg.Project.Name+"/"+env)
	}
	return s.enqueueThen(ctx, r, func(r *Run) {
		if s.opts.OnRelease != nil {
			s.opts.OnRelease(r, cfg)
		}
	})
}

// inProject makes the place of each disabling setting relative to the
// project folder dir ("phoenix.yaml:9:14"), as the run records it: the
// run's Dir says where the folder was.
func inProject(dir string, ds []spec.DisabledCheck) {
	for i := range ds {
		ds[i].At = strings.TrimPrefix(ds[i].At, dir+string(filepath.Separator))
	}
}

// raiseApprovals makes each environment's approval gate ask for at least
// what the server's environment requires (Options.MinApprovals): a
// release whose phoenix.yaml asks for fewer, or none, still waits for
// them.
func (s *Service) raiseApprovals(ctx context.Context, cfg *config.Config, envs []string) error {
	if s.opts.MinApprovals == nil {
		return nil
	}
	for _, env := range envs {
		n, err := s.opts.MinApprovals(ctx, cfg.Project.Name, env)
		if err != nil {
			return fmt.Errorf("pipeline: approvals of %s/%s: %w", cfg.Project.Name, env, err)
		}
		e := cfg.Environments[env]
		if e == nil {
			continue // not in phoenix.yaml: ValidateConfig refuses the release
		}
		if n > e.Protection.Approvals {
			s.log.Info("pipeline: the environment needs more approvals than phoenix.yaml asks for; the release waits for them",
				"project", cfg.Project.Name, "env", env, "phoenix.yaml", e.Protection.Approvals, "server", n)
			e.Protection.Approvals = n
		}
	}
	return nil
}

// WorkflowRequest starts a named workflow of a project.
type WorkflowRequest struct {
	Dir      string // project folder
	Workflow string
	Actor    string
	Trigger  string // cron, webhook, event, manual
	Inputs   Inputs
}

// ErrSkipped is returned when a workflow with concurrency: skip is
// already running or queued.
var ErrSkipped = errors.New("skipped: the workflow is already running (concurrency: skip)")

// StartWorkflow queues a run of a workflow, honouring its concurrency:
// queue (default) waits behind the running one, skip returns ErrSkipped,
// cancel cancels the running one first.
func (s *Service) StartWorkflow(ctx context.Context, req WorkflowRequest) (*Run, error) {
	dir, err := filepath.Abs(req.Dir)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(filepath.Join(dir, "phoenix.yaml"))
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, err.Error())
	}
	w := cfg.Workflows[req.Workflow]
	if w == nil {
		return nil, usererr.New(usererr.NotFound, "project %s has no workflow %q", cfg.Project.Name, req.Workflow)
	}
	plan, err := spec.FromWorkflow(req.Workflow, w)
	if err == nil {
		err = spec.Validate(plan, s.opts.Actions.Known)
	}
	if err != nil {
		return nil, usererr.Wrap(usererr.Usage, err, fmt.Sprintf("workflow %s has problems:\n%v", req.Workflow, err))
	}
	if w.Timeout > 0 {
		for _, st := range plan.Steps {
			st.Timeout = min(st.Timeout, w.Timeout.D())
		}
	}
	key := "wf:" + cfg.Project.Name + "/" + req.Workflow
	if id, busy := s.queuedOrActive(ctx, key); busy {
		switch w.Concurrency {
		case "skip":
			return nil, fmt.Errorf("%w (run %d)", ErrSkipped, id)
		case "cancel":
			if err := s.Cancel(ctx, id, "concurrency: cancel"); err != nil && usererr.KindOf(err) != usererr.Conflict {
				return nil, err
			}
		}
	}
	r := &Run{Project: cfg.Project.Name, Kind: "workflow", Workflow: req.Workflow, Actor: req.Actor,
		Trigger: firstNonEmpty(req.Trigger, "manual"), Dir: dir, Plan: plan, Inputs: req.Inputs, keys: []string{key}}
	if r.Commit, r.Checkout, err = s.sourceOf(ctx, dir, req.Inputs.Values["commit"], w.InPlace, plan); err != nil {
		return nil, err
	}
	r.Version = req.Inputs.Tag
	if ev := triggerEvent(req.Inputs); ev != nil && r.Version == "" {
		r.Version = ev.Data["version"] // the event's release, as a webhook's tag
	}
	return s.enqueue(ctx, r)
}

// checkTagFirst refuses, before a run is queued, a release whose plan
// starts with validate-tag and whose version that step would refuse (not
// greater than the project's last release, and no promotion): a tag given
// by mistake is told on the spot, not queued to fail and page the team
// with release.failed. The step checks again when it runs, against the
// releases finished by then.
func (s *Service) checkTagFirst(ctx context.Context, plan *spec.Plan, cfg *config.Config, version string, envs []string) error {
	if !slices.ContainsFunc(plan.Steps, func(st *spec.Step) bool {
		return st.Uses == "validate-tag" && len(st.Needs) == 0 && (st.If == "" || st.If == spec.Success || st.If == spec.Always)
	}) {
		return nil
	}
	released, err := s.releases(ctx, cfg.Project.Name)
	if err != nil {
		return err
	}
	run := action.RunInfo{Project: cfg.Project.Name, Version: version, Environments: envs, Released: released}
	if _, err := action.CheckTag(run, cfg.Release.TagPrefix); err != nil {
		return usererr.Wrap(usererr.Invalid, err, err.Error()).
			WithHint("tag a version greater than the last release (phoenix runs --project %s lists them); nothing was queued", cfg.Project.Name)
	}
	return nil
}
