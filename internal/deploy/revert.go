package deploy

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// RevertRequest names a deployment that failed verification.
type RevertRequest struct {
	Project     string
	Environment string
	Failed      int64  // the deployment that failed; 0 means the active one
	Reason      string // what failed, e.g. "health-check/production"
	Actor       string
	// Alert: the caller announces the outcome (the server's automatic
	// rollback, with a critical deploy.rolled_back, or deploy.failed when
	// nothing could be rolled back). The transaction then records the
	// alert owed (OwedAlerts) until the caller has queued it
	// (AlertQueued), so a crash in between does not lose it.
	Alert bool
	// Facts are what the failed verification measured (error rate, p95,
	// failed checks), kept with the owed alert so a late one says them too.
	Facts []notify.Fact
}

// Revert records that deployment r.Failed failed verification (r.Reason,
// now) and, when it is still active, rolls its environment back to the
// newest earlier deployment that passed verification, else the newest
// that did not fail (lastGood), in the same transaction:
// no later rollback returns to it, and 'phoenix deployments' shows it
// failed. The record stays when nothing can be rolled back (the
// deployment is no longer active, or none before it passed), and an error
// says so.
func (s *Service) Revert(ctx context.Context, r RevertRequest) (*Deployment, error) {
	env, err := s.Environment(ctx, r.Project, r.Environment)
	if err != nil {
		return nil, err
	}
	failed := cmp.Or(r.Failed, env.ActiveID)
	if failed == 0 {
		return nil, usererr.New(usererr.Conflict, "environment %s/%s has no deployment to take back", r.Project, r.Environment)
	}
	r.Reason = cmp.Or(r.Reason, "verification")
	fetched, err := s.fetchRevertTarget(ctx, env, failed)
	if err != nil {
		return nil, err
	}
	var target *Deployment
	var active int64
	var at time.Time
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.markFailed(ctx, tx, env, failed, r); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(active_id, 0) FROM environments WHERE project = $1 AND name = $2`,
			env.Project, env.Name).Scan(&active); err != nil || active != failed {
			return err
		}
		target, at, err = s.takeBack(ctx, tx, env, failed, fetched, r)
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case active != failed:
		return nil, usererr.New(usererr.Conflict, "deployment %d failed verification but %s/%s no longer serves it (deployment %d is active): recorded as failed, nothing rolled back",
			failed, env.Project, env.Name, active)
	case target == nil:
		return nil, usererr.New(usererr.Conflict, "deployment %d failed verification and stays active: %s/%s has no earlier deployment to roll back to (those that failed verification are skipped)",
			failed, env.Project, env.Name).WithHint("fix the release and deploy it again")
	}
	s.rolledBack(env, failed, target, at)
	return target, nil
}

// takeBack re-activates, in Revert's transaction tx, the deployment of
// env before failed that a rollback goes to (lastGood), and
// returns it and when; nil when there is none, and failed stays active.
// Either way it records the alert r owes (oweAlert): the rollback's, or
// that failed stays active.
func (s *Service) takeBack(ctx context.Context, tx *sql.Tx, env Environment, failed, fetched int64, r RevertRequest) (*Deployment, time.Time, error) {
	target, err := lastGood(ctx, tx, env, failed)
	if err != nil {
		return nil, time.Time{}, err
	}
	if target == nil {
		return nil, time.Time{}, oweAlert(ctx, tx, r, failed, 0, s.opts.Now().UTC())
	}
	if err := s.unchanged(env, target, fetched); err != nil {
		return nil, time.Time{}, err
	}
	m := s.rollbackTo(env, target.ID, r.Actor,
		fmt.Sprintf("from deployment %d to %d: deployment %d failed verification (%s)", failed, target.ID, failed, r.Reason))
	if err := s.point(ctx, tx, m); err != nil {
		return nil, time.Time{}, err
	}
	if err := verifyRestored(ctx, tx, target, m.at, r.Alert); err != nil {
		return nil, time.Time{}, err
	}
	return target, m.at, oweAlert(ctx, tx, r, failed, target.ID, m.at)
}

// verifyRestored makes the server verify target, which a Revert restored
// at at: always after its own automatic rollback (server: the Guard
// verifies a release it restored once, records the verdict and alerts on
// a failure, but never rolls it back again), else (a pipeline run's
// rollback step) only when it was never verified, as a plain rollback
// does (reverify).
func verifyRestored(ctx context.Context, tx *sql.Tx, target *Deployment, at time.Time, server bool) error {
	if !server {
		return reverify(ctx, tx, target, at)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 1 WHERE id = $3`,
		VerifyPending, fmtTime(at), target.ID); err != nil {
		return fmt.Errorf("deploy: verify the restored deployment %d: %w", target.ID, err)
	}
	target.Verification, target.VerificationAt, target.Restored = VerifyPending, &at, true
	return nil
}

// fetchRevertTarget fetches the blobs of the deployment a revert of failed
// would activate (see fetchRollbackTarget); 0 when there is nothing to
// fetch.
func (s *Service) fetchRevertTarget(ctx context.Context, env Environment, failed int64) (int64, error) {
	if !s.fetches() || env.ActiveID != failed {
		return 0, nil
	}
	t, err := lastGood(ctx, s.opts.DB, env, failed)
	if err != nil {
		return 0, err
	}
	return s.fetchDeployment(ctx, t)
}

// markFailed records that deployment id of env failed verification.
func (s *Service) markFailed(ctx context.Context, tx *sql.Tx, env Environment, id int64, r RevertRequest) error {
	// A verification without a verdict (the server's or the run's) ends
	// here: failed. A deployment no one verifies keeps "".
	res, err := tx.ExecContext(ctx, `UPDATE deployments SET failure = $1, failed_at = $2,
		verification_at = CASE WHEN verification IN `+noVerdict+` THEN $2 ELSE verification_at END,
		verification = CASE WHEN verification IN `+noVerdict+` THEN $6 ELSE verification END
		WHERE id = $3 AND project = $4 AND environment = $5`, r.Reason, s.now(), id, env.Project, env.Name, VerifyFailed)
	if err != nil {
		return fmt.Errorf("deploy: record the failure of deployment %d: %w", id, err)
	}
	if affected(res) != 1 {
		return usererr.New(usererr.NotFound, "no deployment %d in %s/%s", id, env.Project, env.Name)
	}
	return s.audit(ctx, tx, Event{Action: "deploy.fail", Project: env.Project, Environment: env.Name, Deployment: id,
		Actor: r.Actor, Detail: fmt.Sprintf("deployment %d failed verification (%s)", id, r.Reason)})
}

// KeepFailed records that deployment r.Failed (0: the active one) failed
// verification (r.Reason) and leaves it live, as its environment's
// rollback.auto is off: it is recorded VerifyFailed, as the server records
// its own verification's failure then, so a release run's deployment that
// failed its health check is not taken for one that ran there
// (promote_from). A deployment already taken back as failed, or with a
// verdict of the server's, keeps it. Audited as deploy.fail.
func (s *Service) KeepFailed(ctx context.Context, r RevertRequest) error {
	env, err := s.Environment(ctx, r.Project, r.Environment)
	if err != nil {
		return err
	}
	id := cmp.Or(r.Failed, env.ActiveID)
	if id == 0 {
		return usererr.New(usererr.Conflict, "environment %s/%s has no deployment to record as failed", r.Project, r.Environment)
	}
	r.Reason = cmp.Or(r.Reason, "verification")
	return s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		var failure, verification string
		err := tx.QueryRowContext(ctx, `SELECT failure, verification FROM deployments WHERE id = $1 AND project = $2 AND environment = $3`,
			id, env.Project, env.Name).Scan(&failure, &verification)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return usererr.New(usererr.NotFound, "no deployment %d in %s/%s", id, env.Project, env.Name)
		case err != nil:
			return fmt.Errorf("deploy: record the failure of deployment %d: %w", id, err)
		case failure != "" || (verification != "" && !undecided(verification)):
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 0 WHERE id = $3`,
			VerifyFailed, s.now(), id); err != nil {
			return fmt.Errorf("deploy: record the failure of deployment %d: %w", id, err)
		}
		return s.audit(ctx, tx, Event{Action: "deploy.fail", Project: env.Project, Environment: env.Name, Deployment: id, Actor: r.Actor,
			Detail: fmt.Sprintf("deployment %d failed verification (%s); kept live: rollback.auto is off", id, r.Reason)})
	})
}
