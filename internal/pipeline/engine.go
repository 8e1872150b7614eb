package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/executor"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
)

// execution is one run executing in this process.
type execution struct {
	s        *Service
	run      *Run
	cfg      *config.Config
	ctx      context.Context         // cancelled by Cancel and by shutdown
	hard     context.Context         // cancelled by shutdown only: always() steps after a cancel
	cancel   context.CancelCauseFunc // cancels ctx, and hard too for errShutdown
	masker   *executor.Masker
	files    string
	dir      string            // the project folder the steps work in: Run.Dir, or its place in the run's checkout
	others   []string          // other projects' folders, hidden from confined steps (stepsandbox.go)
	repo     devRepo           // the repository a run in a checkout is made from (checkout.go)
	released []action.Released // the project's successful releases, newest first
	wake     chan struct{}

	mu       sync.Mutex
	steps    map[string]*Step
	approved map[string]int  // env -> distinct approvals its gate collected
	deployed map[string]bool // env -> a deploy step ran there (true: it succeeded)
	// deployments: env -> the deployment this run's deploy step made there
	deployments map[string]int64
	resumed     map[string]bool // approval gates waiting again after a restart (resume.go)
}

// launch starts r, or resumes it from the steps a previous leader left
// (left, nil for a new run); s.mu is held.
func (s *Service) launch(r *Run, left []Step) *execution {
	hard, hardCancel := context.WithCancelCause(context.Background())
	ctx, runCancel := context.WithCancelCause(hard)
	cancel := func(cause error) {
		if errors.Is(cause, errShutdown) {
			hardCancel(cause)
		}
		runCancel(cause)
	}
	e := &execution{s: s, run: r, ctx: ctx, hard: hard, cancel: cancel, masker: executor.NewMasker(), wake: make(chan struct{}, 1),
		steps: map[string]*Step{}, approved: map[string]int{}, deployed: map[string]bool{},
		deployments: map[string]int64{}, resumed: map[string]bool{}}
	s.active[r.ID] = e
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		e.execute(left)
		hardCancel(nil)
		s.release(r)
	}()
	return e
}

// execute runs the plan, or the rest of it after the steps left by a
// previous leader (left, nil for a new run).
func (e *execution) execute(left []Step) {
	ctx := context.Background()
	r := e.run
	if left == nil {
		if err := e.s.setRunStatus(ctx, r, Running, r.Plan.OmittedNote()); err != nil {
			e.s.log.Error("pipeline: start run", "run", r.ID, "err", err)
		}
	}
	for _, st := range r.Plan.Steps {
		e.steps[st.ID] = &Step{ID: st.ID, Status: Pending}
	}
	err := e.prepare(ctx)
	if err == nil && left != nil {
		err = e.restore(ctx, left)
	}
	if err != nil {
		e.finish(ctx, Failed, err.Error())
		return
	}
	e.s.log.Info("run started", "run", r.ID, "project", r.Project, "resumed", left != nil)
	e.walk()
	if e.suspended() {
		e.s.hub.signal(r.ID)
		e.s.log.Info("run left waiting for approval; the next leader resumes it", "run", r.ID)
		return
	}
	e.interruptWaiting()
	status, msg := e.outcome()
	e.finish(ctx, status, msg)
}

// suspended reports whether the server stopped with the run only waiting
// for an approval: a gate is waiting and no step was interrupted. The run
// stays waiting in the database for the next leader (resume.go).
func (e *execution) suspended() bool {
	if !errors.Is(context.Cause(e.ctx), errShutdown) {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	waiting := false
	for _, st := range e.steps {
		switch st.Status {
		case Waiting:
			waiting = true
		case Interrupted:
			return false
		}
	}
	return waiting
}

// interruptWaiting marks the gates left waiting interrupted, saying so
// at the end of their logs: the server stopped while another step of the
// run ran, so the run is interrupted.
func (e *execution) interruptWaiting() {
	const why = "the server stopped while another step of the run ran; retry the run with phoenix retry"
	for _, st := range e.run.Plan.Steps {
		if e.status(st.ID) != Waiting {
			continue
		}
		var size int64
		if lf, err := executor.AppendLog(e.s.logPath(e.run.ID, st.ID), e.s.opts.LogCap, nil); err == nil {
			lf.Printf("%s", why)
			lf.Close()
			size, _ = lf.Size()
			e.s.storeLog(context.Background(), e.run.ID, st.ID)
		}
		e.mu.Lock()
		e.steps[st.ID].Finished, e.steps[st.ID].LogBytes = e.s.now(), size
		e.mu.Unlock()
		e.settle(st.ID, Interrupted, why)
	}
}

// prepare makes the run's folders (its checkout, for a run building
// one) and loads the project's config from the folder its steps work in:
// a checkout's is the commit's, which is what the run builds.
func (e *execution) prepare(ctx context.Context) error {
	e.files = filepath.Join(e.s.runDir(e.run.ID), "files")
	if err := os.MkdirAll(filepath.Join(e.s.runDir(e.run.ID), "steps"), 0o700); err != nil {
		return err
	}
	if err := os.MkdirAll(e.files, 0o700); err != nil {
		return err
	}
	e.dir = e.run.Dir
	if e.run.Checkout {
		dir, err := e.checkout(ctx)
		if err != nil {
			return err
		}
		e.dir = dir
	}
	cfg, err := config.Load(filepath.Join(e.dir, "phoenix.yaml"))
	if err != nil {
		return fmt.Errorf("phoenix.yaml of %s: %w", e.dir, err)
	}
	e.cfg = cfg
	if e.s.confined() {
		e.others = e.s.otherProjects(ctx, e.run.Project, e.run.Dir)
	}
	if e.run.Kind == "release" {
		released, err := e.s.releases(ctx, e.run.Project)
		if err != nil {
			return err
		}
		e.released = released
	}
	return nil
}

// walk runs the DAG: every step whose needs are finished is decided (run,
// skip or cancel); steps run concurrently as far as needs allow.
func (e *execution) walk() {
	done := make(chan struct{}, len(e.run.Plan.Steps))
	running := 0
	for {
		for progressed := true; progressed; {
			progressed = false
			for _, st := range e.run.Plan.Steps {
				if e.status(st.ID) != Pending || !e.needsFinished(st) {
					continue
				}
				progressed = true
				run, status := e.decide(st)
				if !run {
					e.settle(st.ID, status, "")
					continue
				}
				e.setStatus(st.ID, Running)
				running++
				go func() {
					e.runStep(st)
					done <- struct{}{}
				}()
			}
		}
		if running == 0 {
			return
		}
		<-done
		running--
	}
}

func (e *execution) status(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.steps[id].Status
}

func (e *execution) setStatus(id, status string) {
	e.mu.Lock()
	e.steps[id].Status = status
	e.mu.Unlock()
}

func (e *execution) needsFinished(st *spec.Step) bool {
	for _, n := range st.Needs {
		if s := e.status(n); !Finished(s) {
			return false
		}
	}
	return true
}

// ok reports whether a needed step counts as successful.
func (e *execution) ok(id string) bool {
	st := e.run.Plan.Step(id)
	s := e.status(id)
	return s == Succeeded || (s == Failed && st != nil && st.ContinueOnError)
}

// failedBefore reports whether any step st depends on failed.
func (e *execution) failedBefore(st *spec.Step) bool {
	return len(e.failedAncestors(st)) > 0
}

// failedAncestors lists the steps st depends on that failed, in plan order.
func (e *execution) failedAncestors(st *spec.Step) []*spec.Step {
	before := e.run.Plan.Ancestors(st.ID)
	var out []*spec.Step
	for _, a := range e.run.Plan.Steps {
		if before[a.ID] && (e.status(a.ID) == Failed || e.status(a.ID) == Interrupted) && !e.ok(a.ID) {
			out = append(out, a)
		}
	}
	return out
}

// why says how step id failed: its error and the last lines of its log
// (the compiler's message behind "exit status 2"), masked as they were
// written.
func (e *execution) why(id string) string {
	e.mu.Lock()
	msg := ""
	if st := e.steps[id]; st != nil {
		msg = st.Error
	}
	e.mu.Unlock()
	var log bytes.Buffer
	if err := e.s.Logs(context.Background(), e.run.ID, LogOptions{Step: id}, &log); err != nil {
		return msg
	}
	var tail []string
	for _, l := range strings.Split(log.String(), "\n") {
		if l = strings.TrimSpace(executor.WithoutANSI(l)); l == "" || strings.HasPrefix(l, "[phoenix]") {
			continue
		}
		if r := []rune(l); len(r) > 200 {
			l = string(r[:200]) + "…"
		}
		tail = append(tail, l)
	}
	tail = tail[max(0, len(tail)-5):]
	return strings.TrimSpace(msg + "\n" + strings.Join(tail, "\n"))
}

// stepCtx is the context st runs in: steps that run because of always()
// or cancelled() after a cancel are only stopped by a shutdown.
func (e *execution) stepCtx(st *spec.Step) context.Context {
	if e.ctx.Err() != nil && (st.If == spec.Always || st.If == spec.Cancelled) {
		return e.hard
	}
	return e.ctx
}

// decide applies st's condition once its needs are finished.
func (e *execution) decide(st *spec.Step) (bool, string) {
	cause := context.Cause(e.ctx)
	if errors.Is(cause, errShutdown) {
		return false, Interrupted
	}
	cancelled := cause != nil
	switch st.If {
	case spec.Always:
		return true, ""
	case spec.Cancelled:
		return cancelled, Skipped
	case spec.Failure:
		if e.failedBefore(st) {
			return true, ""
		}
	default:
		if !cancelled {
			all := true
			for _, n := range st.Needs {
				all = all && e.ok(n)
			}
			if all {
				return true, ""
			}
		}
	}
	if cancelled {
		return false, Cancelled
	}
	return false, Skipped
}

// settle records a final step state that did not run.
func (e *execution) settle(id, status, msg string) {
	e.mu.Lock()
	st := e.steps[id]
	st.Status, st.Error = status, msg
	cp := *st
	e.mu.Unlock()
	e.s.saveStep(context.Background(), e.run.ID, &cp)
	e.s.hub.signal(e.run.ID)
}

// outcome is the run's final status and message.
func (e *execution) outcome() (string, string) {
	cause := context.Cause(e.ctx)
	switch {
	case errors.Is(cause, errShutdown):
		return Interrupted, "the server stopped during the run; retry it with phoenix retry"
	case cause != nil:
		return Cancelled, cause.Error()
	}
	var failed []string
	for _, st := range e.run.Plan.Steps {
		if e.status(st.ID) == Failed && !st.ContinueOnError {
			failed = append(failed, st.ID)
		}
	}
	if len(failed) > 0 {
		e.mu.Lock()
		first := e.steps[failed[0]].Error
		e.mu.Unlock()
		return Failed, fmt.Sprintf("step %s failed: %s", strings.Join(failed, ", "), first)
	}
	return Succeeded, e.run.Plan.OmittedNote() // what phoenix runs lists
}

// finish records the outcome and tells the event bus.
func (e *execution) finish(ctx context.Context, status, msg string) {
	r := e.run
	os.RemoveAll(e.tmpDir()) // confined steps' TMPDIR: nothing in it outlives the run
	if e.run.Checkout {
		// Removed whatever the outcome: a retry makes it again from the
		// commit, and each failed run's, kept, would hold a copy of the
		// repository's files until it is pruned.
		if err := removeTree(e.srcDir()); err != nil {
			e.s.log.Warn("pipeline: the run's checkout is left on disk (prune removes it with the run)", "run", r.ID, "err", err)
		}
	}
	if err := e.s.setRunStatus(ctx, r, status, e.masker.String(msg)); err != nil {
		e.s.log.Error("pipeline: finish run", "run", r.ID, "err", err)
	}
	e.s.hub.signal(r.ID)
	e.s.log.Info("run finished", "run", r.ID, "status", status)
	if e.s.opts.OnFinish != nil {
		e.s.opts.OnFinish(status)
	}
	if status == Interrupted {
		return
	}
	bus := e.s.opts.Events
	data := map[string]string{"run": itoa(r.ID), "version": r.Version, "status": status}
	if r.Kind == "release" {
		bus.Publish(ctx, trigger.Event{Name: "release." + map[bool]string{true: "succeeded", false: "failed"}[status == Succeeded],
			Project: r.Project, Data: data})
	}
	for env, ok := range e.deployOutcomes(status) {
		name := trigger.DeploySucceeded
		if !ok {
			name = trigger.DeployFailed
		}
		bus.Publish(ctx, trigger.Event{Name: name, Project: r.Project, Environment: env, Data: data})
	}
}

// deployOutcomes says, for each environment a deploy step of the run
// (which ended status) acted on, whether the deployment there succeeded:
// the deploy step did and every health-check step of the run acting on it
// too (one skipped by its condition counts in a run that succeeded). Each
// environment on its own: a run that fails on production after staging's
// checks passed deployed to staging all the same.
func (e *execution) deployOutcomes(status string) map[string]bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]bool, len(e.deployed))
	for env, deployed := range e.deployed {
		out[env] = deployed && e.checksPassed(env, "", status == Succeeded)
	}
	return out
}

// checksPassed reports whether every health-check step of the run acting
// on env succeeded, but except (a step succeeding as it asks) and, with
// skippedOK, those its condition skipped; e.mu is held.
func (e *execution) checksPassed(env, except string, skippedOK bool) bool {
	for _, id := range healthChecks(e.run, env) {
		s := e.steps[id]
		if id != except && (s == nil || !(s.Status == Succeeded || (skippedOK && s.Status == Skipped))) {
			return false
		}
	}
	return true
}
