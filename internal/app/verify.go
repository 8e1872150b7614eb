package app

import (
	"context"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// The server verifies every activation but a pipeline run's and a
// rollback (monitor.go, afterActivate). Where each verification stands
// is persisted with the deployment (deploy.Deployment.Verification):
// pending from the activation's transaction until the verdict is
// recorded. A stop or a crash during the verification leaves it pending;
// the next start finds the environments whose active deployment is still
// pending and verifies them again (resumeVerifications), with the same
// checks, rollback policy, announcements and audit records.

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
// steps verify it (and whose rollback steps take it back).
func verifies(_ string, o deploy.FinalizeOptions) bool {
	return !strings.HasPrefix(o.Message, "pipeline run ")
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
// passes. An in-process server (one CLI command) leaves them to the next
// 'phoenix server': it would stop before the verdict.
func (a *App) resumeVerifications(ctx context.Context) {
	if a.opts.InProcess {
		return
	}
	if !a.opts.Replica.On {
		a.resumed(a.reverify(ctx, time.Time{}))
		return
	}
	lease := verifyLease
	if a.verifyLease > 0 {
		lease = a.verifyLease
	}
	t := time.NewTicker(a.replicaPoll())
	defer t.Stop()
	for {
		a.resumed(a.reverify(ctx, time.Now().Add(-lease)))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resumed tells the test hook which deployments a pass of
// resumeVerifications took over.
func (a *App) resumed(ids []int64) {
	if a.verifyResumed != nil {
		a.verifyResumed(ids)
	}
}

// reverify takes over the pending verifications begun before before (all
// of them when it is zero), runs each in the background until ctx ends
// (a stop, or the lead lost: it stays pending for the next taker) and
// returns their deployments.
func (a *App) reverify(ctx context.Context, before time.Time) (claimed []int64) {
	rs, err := a.Deploy.Unverified(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("verify: cannot read the deployments pending verification", "err", err)
		}
		return nil
	}
	for _, r := range rs {
		since := r.Deployment.VerificationAt
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
		a.projects.wg.Add(1)
		go func() {
			defer a.projects.wg.Done()
			a.verify(ctx, r)
		}()
	}
	return claimed
}
