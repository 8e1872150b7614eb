package app

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// The server verifies every activation but a pipeline run's and a
// rollback (monitor.go, afterActivate): the deployment its own automatic
// rollback restores is verified once more, pending from the rollback's
// transaction (deploy.Service.Revert), and its Guard never rolls it back
// again; one a plain rollback returns to only when it was never verified
// (superseded before its verdict). Where each verification stands
// is persisted with the deployment (deploy.Deployment.Verification):
// pending from the activation's transaction until the verdict is
// recorded. A stop or a crash during the verification leaves it pending;
// the next start finds the environments whose active deployment is still
// pending and verifies them again (resumeVerifications), with the same
// checks, rollback policy, announcements and audit records.
//
// A pipeline run verifies its own deployments with its health-check
// steps. A run a stop or a crash interrupted after its deploy step and
// before the health check of that environment succeeded leaves a
// deployment no one verifies: the start adopts it (adoptUnverified) and
// verifies it as one of its own.

// verifyTimeout bounds one verification (monitor.Guard.Timeout); a
// rollback it decides takes at most 30 s more.
const verifyTimeout = 5 * time.Minute

// verifyLease: a pending verification begun (or taken over) longer ago
// than this runs on no server any more. With replicas the leader takes
// over only those: a younger one may be in progress on another replica.
const verifyLease = verifyTimeout + 90*time.Second

// verifyActor is the actor of the records an automatic verification
// makes (the rollback, the failure, a verification taken over).
const verifyActor = "phoenix-verify"

// verifies says which new deployments the server verifies itself
// (deploy.Options.Verify): all but a pipeline run's, whose health-check
// steps verify it (and whose rollback steps take it back). The run is
// the one its deploy step names (FinalizeOptions.Run), not its message,
// which anyone deploying may write.
func verifies(_ string, o deploy.FinalizeOptions) bool {
	return o.Run == ""
}

// runOf returns the pipeline run that made deployment d
// (deploy.Deployment.Run, recorded from the run, never from a request),
// if any.
func runOf(d deploy.Deployment) (int64, bool) {
	id, err := strconv.ParseInt(d.Run, 10, 64)
	return id, err == nil && id > 0
}

// verify runs the project's Guard on r (checks, rollback on failure,
// announcements) and records the verdict. An interrupted verification
// records nothing: r stays pending, and the next start verifies it
// again. The verdict is recorded after the Guard announced it, so a
// crash in between repeats the verification, whose announcement has the
// same message id as the first (the dispatcher delivers it once).
func (a *App) verify(ctx context.Context, r deploy.Release) {
	if a.verifyStarts != nil {
		a.verifyStarts(r)
	}
	out, err := a.guardOf(ctx, r.Project).AfterActivate(ctx, r)
	if out.Skipped != "" {
		a.logSkipped(r, out.Skipped)
		return
	}
	if err != nil {
		a.log.Error("verify: automatic rollback failed", "project", r.Project, "env", r.Environment, "err", err)
	}
	if !out.Result.OK {
		a.settleAlert(ctx, r.Deployment.ID, out.Message, true) // rollback_alert.go
	}
	a.log.Info("verify: "+out.Message.Title, "project", r.Project, "env", r.Environment, "ok", out.Result.OK,
		"reason", out.Result.Reason)
	verdict := deploy.VerifyFailed
	if out.Result.OK {
		verdict = deploy.VerifyPassed
	}
	if _, err := a.Deploy.RecordVerification(context.WithoutCancel(ctx), r.Deployment.ID, verdict); err != nil {
		a.log.Error("verify: cannot record the verdict; the deployment stays pending verification and the next start verifies it again",
			"project", r.Project, "env", r.Environment, "deployment", r.Deployment.ID, "err", err)
	}
}

// resumeVerifications verifies again every environment whose active
// deployment is pending verification: its verification was cut short by
// a stop or a crash. Alone on its database (the data dir's lock, or a
// PostgreSQL database a second server is refused), a server starting
// verifies every such one at once. With replicas it is the leader's
// work, and it takes over only those pending longer than verifyLease,
// checking again every poll: a younger one may be in progress on another
// replica, and one whose replica died is taken over once its lease
// passes. Each pass first adopts the deployments pipeline runs that ended
// left unverified (adoptUnverified): at once, as no server verifies
// them; a lone server, which has no poll, looks again each time a run
// ends (runEnded). Before all that, each pass queues the alerts automatic rollbacks
// owe (queueOwed: a crash came between a rollback and its alert), the
// leader's only once they are owed for longer than owedAlertLease. An
// in-process server (one CLI command) leaves them all to the next
// 'phoenix server': it would stop before the verdict.
func (a *App) resumeVerifications(ctx context.Context) {
	if a.opts.InProcess {
		return
	}
	if !a.opts.Replica.On {
		a.queueOwed(ctx, time.Time{}) // rollback_alert.go
		a.resumed(a.reverify(ctx, time.Time{}))
		for { // a lone server has no poll: each run's end kicks (runEnded)
			select {
			case <-ctx.Done():
				return
			case <-a.adoptKick:
				a.resumed(a.adoptUnverified(ctx))
			}
		}
	}
	lease := verifyLease
	if a.verifyLease > 0 {
		lease = a.verifyLease
	}
	t := time.NewTicker(a.replicaPoll())
	defer t.Stop()
	for {
		a.queueOwed(ctx, time.Now().Add(-owedAlertLease))
		a.resumed(a.reverify(ctx, time.Now().Add(-lease)))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runEnded is told each pipeline run's end (pipeline.Options.OnFinish):
// it schedules a Prune and, on a lone server, a look for the deployments
// the run left unverified (adoptUnverified: one cancelled during its
// health check, or whose check failed or was skipped with nothing taking
// the deployment back). An interrupted run's are the next start's (this
// server is stopping); with replicas the leader's poll finds them.
func (a *App) runEnded(status string) {
	a.kickPrune()
	if status != pipeline.Interrupted {
		kickOnce(a.adoptKick)
	}
}

// resumed tells the test hook which deployments a pass of
// resumeVerifications took over.
func (a *App) resumed(ids []int64) {
	if a.verifyResumed != nil {
		a.verifyResumed(ids)
	}
}

// reverify adopts the deployments pipeline runs that ended left
// unverified (adoptUnverified), takes over the pending verifications
// begun before before (all of them when it is zero), runs each in the
// background until ctx ends (a stop, or the lead lost: it stays pending
// for the next taker) and returns their deployments.
func (a *App) reverify(ctx context.Context, before time.Time) (claimed []int64) {
	claimed = a.adoptUnverified(ctx)
	rs, err := a.Deploy.Unverified(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("verify: cannot read the deployments pending verification", "err", err)
		}
		return nil
	}
	for _, r := range rs {
		since := r.Deployment.VerificationAt
		if slices.Contains(claimed, r.Deployment.ID) { // adopted just now: verifying
			continue
		}
		if !before.IsZero() && since != nil && since.After(before) {
			continue
		}
		ok, err := a.Deploy.ClaimVerification(ctx, &r, verifyActor)
		if err != nil {
			a.log.Error("verify: cannot take over an unfinished verification", "project", r.Project, "env", r.Environment,
				"deployment", r.Deployment.ID, "err", err)
			continue
		}
		if !ok { // superseded, verified or taken over meanwhile
			continue
		}
		args := []any{"project", r.Project, "env", r.Environment, "deployment", r.Deployment.ID}
		if since != nil {
			args = append(args, "pending_since", since.UTC().Format(time.RFC3339))
		}
		a.log.Warn("verify: the active deployment's verification did not finish (the server stopped or crashed); verifying it again", args...)
		claimed = append(claimed, r.Deployment.ID)
		a.verifyInBackground(ctx, r)
	}
	return claimed
}

// verifyInBackground verifies r (verify) until ctx ends.
func (a *App) verifyInBackground(ctx context.Context, r deploy.Release) {
	a.projects.wg.Add(1)
	go func() {
		defer a.projects.wg.Done()
		a.verify(ctx, r)
	}()
}

// adoptUnverified verifies, as the server's own, every active deployment
// a pipeline run made and left unverified: the run ended after its deploy
// step activated it and before its health check of that environment
// succeeded — interrupted (a stop or a crash), cancelled, or with the
// check failed or skipped and nothing taking the deployment back — so
// nothing else will (a finished run never runs again; one resumed waiting
// for an approval is not final, and verifies its own deployments).
// Decided from the database (deploy.Unattended,
// pipeline.Service.HealthCheckOf), so a crash is covered as a stop is;
// a deployment whose run's health checks passed is not verified again.
// It returns the deployments adopted, each verified in the background.
func (a *App) adoptUnverified(ctx context.Context) (adopted []int64) {
	rs, err := a.Deploy.Unattended(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("verify: cannot read the active deployments the server does not verify", "err", err)
		}
		return nil
	}
	for _, r := range rs {
		why, args := a.unverifiedByItsRun(ctx, r)
		if why == "" {
			continue
		}
		ok, err := a.Deploy.AdoptVerification(ctx, &r, verifyActor, why)
		if err != nil {
			a.log.Error("verify: cannot take over the verification of a pipeline run's deployment", append(args, "err", err)...)
			continue
		}
		if !ok { // replaced, rolled back or adopted meanwhile
			continue
		}
		a.log.Warn("verify: a pipeline run ended (interrupted, cancelled, or its health check failed or skipped with the deployment left live) before its health check of the environment succeeded; verifying its deployment", args...)
		adopted = append(adopted, r.Deployment.ID)
		a.verifyInBackground(ctx, r)
	}
	return adopted
}

// unverifiedByItsRun says why r, an active deployment the server does not
// verify, was verified by no one: the pipeline run that made it was
// interrupted before its health check of r's environment succeeded; ""
// when it was (or is being) verified, or no run made it. It returns the
// log arguments that identify r and its run too. A final answer is
// remembered (a.runSettled): finished runs do not change.
func (a *App) unverifiedByItsRun(ctx context.Context, r deploy.Release) (string, []any) {
	id := r.Deployment.ID
	args := []any{"project", r.Project, "env", r.Environment, "deployment", id}
	run, ok := runOf(r.Deployment)
	if !ok || a.runSettled.has(id) {
		return "", args
	}
	args = append(args, "run", run)
	h, err := a.Pipeline.HealthCheckOf(ctx, run, r.Environment)
	switch {
	case usererr.KindOf(err) == usererr.NotFound: // pruned: nothing tells
		a.runSettled.add(id)
		return "", args
	case err != nil:
		if ctx.Err() == nil {
			a.log.Error("verify: cannot read the health check of the pipeline run of a deployment", append(args, "err", err)...)
		}
		return "", args
	case !h.Final(): // it runs: its own health check verifies it
		return "", args
	case !h.Unverified():
		a.runSettled.add(id)
		return "", args
	}
	args = append(args, "step", h.Step, "step_status", h.Status)
	return fmt.Sprintf("pipeline run %d made deployment %d and %s before its step %s succeeded (%s): "+
		"nothing verified the deployment; verifying it", run, id, endedAs(h.RunStatus), h.Step, h.Status), args
}

// endedAs says how a run ended, for the reason of an adoption: "was
// interrupted", "was cancelled", "failed", "succeeded".
func endedAs(status string) string {
	switch status {
	case pipeline.Interrupted, pipeline.Cancelled:
		return "was " + status
	}
	return status
}

// idSet is a set of ids safe for concurrent use; the zero value is empty.
type idSet struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (s *idSet) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ids[id]
}

func (s *idSet) add(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = map[int64]bool{}
	}
	s.ids[id] = true
}
