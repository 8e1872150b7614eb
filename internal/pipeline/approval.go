package pipeline

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// awaitApproval pauses the run at st until st.Approvals distinct users
// other than the releaser approve, someone rejects, the approval timeout
// (counted from the request) passes, or the run is cancelled. When the
// server stops it returns errSuspended: the gate stays waiting for the
// next leader to resume.
func (e *execution) awaitApproval(sctx context.Context, st *spec.Step, w io.Writer) error {
	ctx := context.Background()
	env := st.Environment
	e.s.setRunStatus(ctx, e.run, Waiting, fmt.Sprintf("waiting for %d approval(s) to deploy to %s", st.Approvals, env))
	e.setStatus(st.ID, Waiting)
	e.save(st.ID)
	e.s.hub.signal(e.run.ID)
	e.mu.Lock()
	asked, resumed := e.steps[st.ID].Started, e.resumed[st.ID]
	e.mu.Unlock()
	if resumed {
		// Not announced again: the approvers were asked when the gate was
		// reached, and what they were told (the run, the command that
		// approves it) still holds; a second
		// request after every upgrade or failover would read as a second
		// release to approve. The log says it goes on waiting.
		fmt.Fprintf(w, "[phoenix] still waiting after a restart of the server (or a failover): %d approval(s) to deploy %s to %s, asked at %s; approvals given meanwhile count\n",
			st.Approvals, e.run.Version, env, asked.Format(time.RFC3339))
	} else {
		e.request(ctx, st, w)
	}
	deadline := asked.Add(e.s.opts.ApprovalTimeout)
	defer func() {
		e.setStatus(st.ID, Running)
		if sctx.Err() == nil {
			e.s.setRunStatus(ctx, e.run, Running, e.run.Plan.OmittedNote())
		}
	}()
	for {
		yes, no, err := e.s.tally(ctx, e.run, env)
		if err != nil {
			return err
		}
		if no != nil {
			return fmt.Errorf("rejected by %s: %s", no.Actor, no.Comment)
		}
		if len(yes) >= st.Approvals {
			e.mu.Lock()
			e.approved[env] = len(yes)
			e.mu.Unlock()
			fmt.Fprintf(w, "[phoenix] approved by %s\n", strings.Join(yes, ", "))
			return nil
		}
		left := deadline.Sub(e.s.now())
		if left <= 0 {
			return fmt.Errorf("approval timed out after %s with %d of %d approval(s)", config.FormatDuration(e.s.opts.ApprovalTimeout), len(yes), st.Approvals)
		}
		select {
		case <-sctx.Done():
			if cause := context.Cause(sctx); !errors.Is(cause, errShutdown) {
				return cause
			}
			return errSuspended
		case <-e.wake:
		case <-e.s.opts.Clock.After(left):
		}
	}
}

// howToApprove says how an approver approves or rejects run id: the
// request's log line and message would otherwise leave them to find the
// command.
func howToApprove(id int64) string {
	return fmt.Sprintf("approve with phoenix approve %d, or reject with phoenix approve %d --reject --reason TEXT (or on the run's page in the dashboard)", id, id)
}

// request asks for the approval of st: in its log, on the event bus and
// through the notifier.
func (e *execution) request(ctx context.Context, st *spec.Step, w io.Writer) {
	env := st.Environment
	fmt.Fprintf(w, "[phoenix] waiting for %d approval(s) to deploy %s to %s, from %s; the user who released it (%s) cannot approve it\n",
		st.Approvals, e.run.Version, env, approversText(st.Approvers), firstNonEmpty(e.run.Actor, "unknown"))
	fmt.Fprintf(w, "[phoenix] %s\n", howToApprove(e.run.ID))
	e.s.opts.Events.Publish(ctx, trigger.Event{Name: "approval.requested", Project: e.run.Project, Environment: env,
		Data: map[string]string{"run": itoa(e.run.ID), "version": e.run.Version}})
	if n := e.s.opts.Deps.Notifier; n != nil {
		err := n.Notify(ctx, action.Notification{Event: "approval.requested", Project: e.run.Project, Environment: env,
			Run: itoa(e.run.ID), Version: e.run.Version, Severity: 2,
			Message: fmt.Sprintf("run %d of %s %s waits for approval to deploy to %s", e.run.ID, e.run.Project, e.run.Version, env),
			Text:    howToApprove(e.run.ID) + "."})
		if err != nil {
			fmt.Fprintf(w, "[phoenix] the approval request was not announced: %v\n", err)
		}
	}
}

func approversText(a []string) string {
	if len(a) == 0 {
		return "any user allowed to approve (the approver or admin role)"
	}
	return "protection.approvers (" + strings.Join(a, ", ") + ": roles or user names)"
}

// tally returns the distinct approvers (not the releaser) of env in run r,
// and a rejection if there is one.
func (s *Service) tally(ctx context.Context, r *Run, env string) ([]string, *Approval, error) {
	as, err := s.approvals(ctx, r.ID)
	if err != nil {
		return nil, nil, err
	}
	var yes []string
	for _, a := range as {
		switch {
		case a.Environment != env:
		case a.Decision == "reject": // the releaser's too: it withdraws the release
			return nil, &a, nil
		case a.Actor != r.Actor: // the releaser's own approval never counts
			yes = append(yes, a.Actor)
		}
	}
	return yes, nil, nil
}

func (s *Service) approvals(ctx context.Context, id int64) ([]Approval, error) {
	// Ordered here, by time: the stored RFC3339Nano text drops trailing
	// zeros, so its text order is wrong within a second.
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT environment, actor, decision, comment, at FROM pipeline_approvals
		WHERE run_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("pipeline: approvals of run %d: %w", id, err)
	}
	defer rows.Close()
	var out []Approval
	for rows.Next() {
		var a Approval
		var at string
		if err := rows.Scan(&a.Environment, &a.Actor, &a.Decision, &a.Comment, &at); err != nil {
			return nil, err
		}
		a.At = parseTS(at)
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Approval) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Actor, b.Actor))
	})
	return out, rows.Err()
}

// Approve records actor's approval of run id's gate for env ("" for the
// gate the run waits at, or its next one). The releaser cannot approve
// their own release (they may reject it: Reject); each user counts once.
func (s *Service) Approve(ctx context.Context, id int64, env, actor, comment string) error {
	return s.decide(ctx, id, env, actor, "approve", comment)
}

// Reject fails run id at its approval gate for env; reason is required.
// The releaser may reject their own release (withdraw it), as an approver
// of the environment.
func (s *Service) Reject(ctx context.Context, id int64, env, actor, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return usererr.New(usererr.Invalid, "a rejection needs a reason").WithHint("phoenix approve %d --reject --reason \"...\"", id)
	}
	return s.decide(ctx, id, env, actor, "reject", reason)
}

func (s *Service) decide(ctx context.Context, id int64, env, actor, decision, comment string) error {
	if actor == "" {
		return usererr.New(usererr.Unauthorized, "approvals need a signed-in user")
	}
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return err
	}
	if Finished(r.Status) {
		err := usererr.New(usererr.Conflict, "run %d has already finished (%s)", id, r.Status)
		if r.Status == Interrupted {
			// A run only waiting for approval survives a restart or a
			// failover (resume.go); one is interrupted when a step was
			// running as its server stopped.
			err = err.WithHint("the server running it stopped while a step ran (a restart, or another replica took over as leader); run it again with 'phoenix retry %d' and approve the new run", id)
		}
		return err
	}
	gate, err := s.gate(ctx, r, env)
	if err != nil {
		return err
	}
	if actor == r.Actor && decision == "approve" { // rejecting one's own release withdraws it
		return usererr.New(usererr.Forbidden, "%s released run %d and cannot approve it", actor, id).
			WithHint("another user with an approver role must approve")
	}
	if s.opts.CanApprove != nil && !s.opts.CanApprove(ctx, actor, gate.Environment, gate.Approvers) {
		err := usererr.New(usererr.Forbidden, "%s may not approve deployments to %s", actor, gate.Environment)
		if actor == r.Actor {
			return err.WithHint("approvers: %s; to withdraw your own release, 'phoenix cancel %d'", approversText(gate.Approvers), id)
		}
		return err.WithHint("approvers: %s", approversText(gate.Approvers))
	}
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pipeline_approvals (run_id, environment, actor, decision, comment, at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, environment, actor)
			DO UPDATE SET decision = excluded.decision, comment = excluded.comment, at = excluded.at`,
			id, gate.Environment, actor, decision, comment, s.ts(s.now()))
		if err != nil {
			return fmt.Errorf("pipeline: record %s: %w", decision, err)
		}
		return s.audit(ctx, tx, AuditEvent{Action: "pipeline." + decision, Target: r.target() + "/" + gate.Environment,
			Actor: actor, Detail: comment})
	})
	if err != nil {
		return err
	}
	s.announce(ctx, id)
	s.mu.Lock()
	e := s.active[id]
	s.mu.Unlock()
	if e != nil {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// gate finds the approval step for env, or the one the run waits at.
func (s *Service) gate(ctx context.Context, r *Run, env string) (*spec.Step, error) {
	var gates []*spec.Step
	for _, st := range r.Plan.Steps {
		if st.Kind() == "approval" && (env == "" || st.Environment == env) {
			gates = append(gates, st)
		}
	}
	if len(gates) == 0 {
		return nil, usererr.New(usererr.Conflict, "run %d has no approval gate%s", r.ID, map[bool]string{true: " for " + env}[env != ""])
	}
	if len(gates) == 1 {
		return gates[0], nil
	}
	steps, err := s.loadSteps(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range gates {
		for _, st := range steps {
			if st.ID == g.ID && !Finished(st.Status) {
				return g, nil
			}
		}
	}
	return gates[len(gates)-1], nil
}
