package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// A release waits for its production approval for hours; a restart of the
// server (an upgrade) or a failover to another replica must not lose it.
// The server that starts leading resumes every run the previous leader
// left whose only unfinished work is an approval gate waiting: its
// finished steps keep their outcome and outputs, the gate goes on waiting
// (approvals given meanwhile count, the timeout counts from the request)
// and after the approval the rest runs as it would have. A run with a
// step running when the server stopped is interrupted instead: what the
// step did (half a deploy) cannot be assumed; retry it.

// errSuspended ends an approval gate's wait when the server stops: the
// gate stays waiting for the next leader to resume (resume.go).
var errSuspended = errors.New("the server stopped while the approval was pending")

// leftover is a run a previous leader left running or waiting, with its
// steps as recorded.
type leftover struct {
	run   *Run
	steps []Step
}

// recover takes over the runs a previous leader left running or waiting:
// those only waiting for an approval are resumed here, the others are
// marked interrupted with their running and waiting steps.
func (s *Service) recover(ctx context.Context) error {
	left, err := s.leftovers(ctx)
	if err != nil {
		return err
	}
	var resume []leftover
	var stop []int64
	for _, l := range left {
		if waitsOnly(l.run.Plan, l.steps) {
			resume = append(resume, l)
		} else {
			stop = append(stop, l.run.ID)
		}
	}
	if err := s.interrupt(ctx, stop); err != nil {
		return err
	}
	s.resumeAll(ctx, resume)
	return nil
}

// leftovers lists the runs left running or waiting, with their steps.
func (s *Service) leftovers(ctx context.Context) ([]leftover, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+runCols+` FROM pipeline_runs WHERE status IN ($1, $2) ORDER BY id`,
		Running, Waiting)
	if err != nil {
		return nil, fmt.Errorf("pipeline: list the runs left running: %w", err)
	}
	var out []leftover
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, leftover{run: r})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pipeline: list the runs left running: %w", err)
	}
	for i := range out {
		if out[i].steps, err = s.loadSteps(ctx, out[i].run.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// waitsOnly reports whether a run's only unfinished work is waiting for
// an approval: at least one approval gate waiting, and no step running
// (or left interrupted or cancelled by a server that stopped).
func waitsOnly(plan *spec.Plan, steps []Step) bool {
	waiting := false
	for _, st := range steps {
		switch st.Status {
		case Waiting:
			ps := plan.Step(st.ID)
			if ps == nil || ps.Kind() != "approval" {
				return false
			}
			waiting = true
		case Running, Interrupted, Cancelled:
			return false
		}
	}
	return waiting
}

// interrupt marks runs ids interrupted, and their running or waiting
// steps too, in one transaction.
func (s *Service) interrupt(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	now := s.ts(s.now())
	return s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE pipeline_steps SET status = $1, error = 'the server stopped while the step ran',
				finished_at = $2 WHERE run_id = $3 AND status IN ($4, $5)`, Interrupted, now, id, Running, Waiting); err != nil {
				return fmt.Errorf("pipeline: interrupt the steps of run %d: %w", id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE pipeline_runs SET status = $1, finished_at = $2,
				message = 'the server stopped while a step ran; retry it with phoenix retry' WHERE id = $3 AND status IN ($4, $5)`,
				Interrupted, now, id, Running, Waiting); err != nil {
				return fmt.Errorf("pipeline: interrupt run %d: %w", id, err)
			}
		}
		return nil
	})
}

// resumeAll executes the runs left waiting for an approval, holding their
// queue keys before any queued run is dispatched. A cancel asked while no
// server executed a run cancels it now.
func (s *Service) resumeAll(ctx context.Context, list []leftover) {
	if len(list) == 0 {
		return
	}
	if s.opts.Transient {
		s.hold(list)
		return
	}
	asked := s.cancelsAsked(ctx)
	for _, l := range list {
		r := l.run
		s.setRunner(ctx, r.ID)
		if err := s.audit(ctx, nil, AuditEvent{Action: "pipeline.run.resume", Target: r.target(), Actor: r.Actor,
			Detail: "resumed waiting for approval after the server that ran it stopped"}); err != nil {
			s.log.Warn("pipeline: audit the resume", "run", r.ID, "err", err)
		}
		s.log.Info("run resumed: waiting for approval", "run", r.ID, "project", r.Project, "version", r.Version)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range list {
		r := l.run
		if _, on := s.active[r.ID]; on {
			continue
		}
		for _, k := range r.keys {
			s.busy[k] = r.ID
		}
		e := s.launch(r, l.steps)
		if by, ok := asked[r.ID]; ok {
			e.cancel(fmt.Errorf("cancelled by %s", firstNonEmpty(by, "a user")))
		}
	}
}

// hold keeps the queue keys of the runs left waiting, without executing
// them (Options.Transient): no release overtakes them before the next
// lasting server resumes them.
func (s *Service) hold(list []leftover) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range list {
		for _, k := range l.run.keys {
			s.busy[k] = l.run.ID
		}
		s.log.Info("run left waiting for approval to the next server (this one lives for one command)", "run", l.run.ID)
	}
}

// setRunner records this server as the one executing run id, so the
// others forward its logs here.
func (s *Service) setRunner(ctx context.Context, id int64) {
	if s.opts.Runner != nil {
		s.db(ctx, `UPDATE pipeline_runs SET runner = $1 WHERE id = $2`, s.opts.Runner(), id)
	}
}

// restore takes a resumed run's steps as the previous leader left them:
// finished steps keep their outcome and outputs, waiting approval gates
// wait again (from their first request), and what the engine derived from
// finished steps is rebuilt: the deployments made, the approvals passed,
// the secrets to mask and the files their outputs name.
func (e *execution) restore(ctx context.Context, left []Step) error {
	fetched, err := e.fetchedSecrets(ctx)
	if err != nil {
		return err
	}
	for _, st := range left {
		ps := e.run.Plan.Step(st.ID)
		if ps == nil {
			continue
		}
		cp := st
		if cp.Status == Waiting {
			cp.Status = Pending // the walk starts it again, as resumed
			e.resumed[st.ID] = true
		}
		e.steps[st.ID] = &cp
		if st.Started.IsZero() || !Finished(st.Status) {
			continue // never ran
		}
		e.remask(ctx, ps, fetched[st.ID])
		if err := e.rederive(ctx, ps, st); err != nil {
			return err
		}
	}
	return e.restoreFiles(ctx)
}

// rederive rebuilds what a finished step told the engine: where a deploy
// step deployed (and the deployment it made), how many approvals a passed
// gate collected.
func (e *execution) rederive(ctx context.Context, ps *spec.Step, st Step) error {
	switch {
	case ps.Uses == "deploy":
		env := e.stepEnv(ps)
		if env == "" {
			return nil
		}
		e.deployed[env] = e.deployed[env] || st.Status == Succeeded
		if id, err := strconv.ParseInt(st.Outputs["deployment"], 10, 64); st.Status == Succeeded && err == nil {
			e.deployments[env] = id
		}
	case ps.Kind() == "approval" && st.Status == Succeeded:
		yes, _, err := e.s.tally(ctx, e.run, ps.Environment)
		if err != nil {
			return err
		}
		e.approved[ps.Environment] = len(yes)
	}
	return nil
}

// remask resolves again the secrets a finished step was given and those
// its action fetched (fetched, recorded by name: stepsecrets.go), asking
// as the step did, so the rest of the run masks them as the previous
// server did. A secret that cannot be resolved now is one the rest of the
// run cannot print either.
func (e *execution) remask(ctx context.Context, ps *spec.Step, fetched []string) {
	ctx = e.stepContext(ctx, ps)
	e.refetch(ctx, fetched)
	for _, name := range ps.Secrets {
		e.secret(ctx, name)
	}
	for _, v := range e.envVars(ps) {
		e.resolveValue(ctx, spec.Expand(v, e.output))
	}
}
