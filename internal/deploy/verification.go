package deploy

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Where the server's verification of a deployment stands
// (Deployment.Verification). A deployment the server does not verify has
// "".
const (
	// VerifyPending: activated, no verdict yet. Recorded in the
	// activation's transaction, so a stop or a crash before the verdict
	// leaves it pending, and the next start verifies it again.
	VerifyPending = "pending"
	VerifyPassed  = "passed" // its verification passed
	// VerifyFailed: its verification failed (and it was taken back, when
	// Failure is set).
	VerifyFailed = "failed"
	// VerifySuperseded: a newer deploy or a rollback replaced it before
	// a verdict; it was never verified.
	VerifySuperseded = "superseded"
	// VerifyByRun: a pipeline run's deployment (Deployment.Run) that the
	// run's health-check steps verify, not the server; no verdict yet.
	// RunPassed records theirs (VerifyPassed); a failure takes it back
	// (VerifyFailed). A run that ends before its checks passed leaves it
	// so, and the server adopts it (AdoptVerification).
	VerifyByRun = "run"
)

// noVerdict is, for SQL, the states of a verification without a verdict
// yet: the server's or a run's (undecided).
const noVerdict = `('` + VerifyPending + `', '` + VerifyByRun + `')`

// undecided reports whether verification state v has no verdict yet.
func undecided(v string) bool { return v == VerifyPending || v == VerifyByRun }

// verifies reports whether the server verifies a new deployment of
// project made with o (Options.Verify).
func (s *Service) verifies(project string, o FinalizeOptions) bool {
	return s.opts.Verify != nil && s.opts.Verify(project, o)
}

// supersede records as superseded the pending verification (the
// server's or a run's) of the deployment env serves, unless it is next
// (the deployment the pointer moves to).
func supersede(ctx context.Context, tx *sql.Tx, project, env string, next int64, now string) error {
	_, err := tx.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 0
		WHERE verification IN `+noVerdict+` AND id <> $3 AND id = (SELECT active_id FROM environments WHERE project = $4 AND name = $5)`,
		VerifySuperseded, now, next, project, env)
	if err != nil {
		return fmt.Errorf("deploy: supersede the verification of %s/%s: %w", project, env, err)
	}
	return nil
}

// Unverified returns the release of every environment whose active
// deployment is pending verification, oldest verification first: one in
// progress, or one a stop or a crash cut short (Deployment.VerificationAt
// says since when).
func (s *Service) Unverified(ctx context.Context) ([]Release, error) {
	rs, err := s.activeWhere(ctx, `d.verification = $1 ORDER BY d.verification_at, d.id`, VerifyPending)
	if err != nil {
		return nil, fmt.Errorf("deploy: unverified deployments: %w", err)
	}
	return rs, nil
}

// Unattended returns the release of every environment whose active
// deployment the server does not verify — a pipeline run's, whose
// health-check steps do (VerifyByRun until they pass, or "" when the run
// checks none of its environment), or one older than the state — and is
// the newest deployment of its environment, so active since its own
// activation rather than returned to by a rollback (a rollback verifies
// what it restores itself, or leaves it as it was: reverify,
// verifyRestored). AdoptVerification makes the server verify one.
func (s *Service) Unattended(ctx context.Context) ([]Release, error) {
	rs, err := s.activeWhere(ctx, `d.verification IN ('', $1) AND `+newest+` ORDER BY d.id`, VerifyByRun)
	if err != nil {
		return nil, fmt.Errorf("deploy: deployments without verification: %w", err)
	}
	return rs, nil
}

// newest holds when deployment d is the newest of its environment.
const newest = `NOT EXISTS (SELECT 1 FROM deployments n WHERE n.project = d.project AND n.environment = d.environment AND n.id > d.id)`

// activeWhere returns the release of every environment whose active
// deployment d meets where (which may order them too).
func (s *Service) activeWhere(ctx context.Context, where string, args ...any) ([]Release, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+depColumns+` FROM environments e
		JOIN deployments d ON d.id = e.active_id JOIN artifacts a ON a.digest = d.artifact
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	var ds []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		d.setState(d.ID)
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Release, 0, len(ds))
	for _, d := range ds {
		env, err := s.Environment(ctx, d.Project, d.Environment)
		if err != nil {
			return nil, err
		}
		if env.ActiveID == d.ID {
			d.LiveSince = env.LiveSince
		}
		out = append(out, s.release(env, d, nil))
	}
	return out, nil
}

// AdoptVerification makes the server verify r's deployment (as Unattended
// returned it), which nothing verified (its pipeline run was interrupted
// before its health check): while it is still active, the newest of its
// environment and without a verification state, it is recorded pending
// from now (in r too) and the audit event deploy.reverify by actor says
// why. A stop or a crash before the verdict leaves it pending, so the
// next start verifies it again (Unverified). False, nil: a deploy, a
// rollback or another server got there first.
func (s *Service) AdoptVerification(ctx context.Context, r *Release, actor, why string) (bool, error) {
	d := &r.Deployment
	now := s.opts.Now().UTC()
	adopted := false
	err := s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 0
			WHERE id = $3 AND verification IN ('', $6) AND id = (SELECT active_id FROM environments WHERE project = $4 AND name = $5)
			AND NOT EXISTS (SELECT 1 FROM deployments n WHERE n.project = $4 AND n.environment = $5 AND n.id > $3)`,
			VerifyPending, fmtTime(now), d.ID, r.Project, r.Environment, VerifyByRun)
		if err != nil {
			return err
		}
		if adopted = affected(res) == 1; !adopted {
			return nil
		}
		return s.audit(ctx, tx, Event{Action: "deploy.reverify", Project: r.Project, Environment: r.Environment,
			Deployment: d.ID, Actor: actor, Detail: why})
	})
	if err != nil {
		return false, fmt.Errorf("deploy: take over the verification of deployment %d: %w", d.ID, err)
	}
	if adopted {
		d.Verification, d.VerificationAt = VerifyPending, &now
	}
	return adopted, nil
}

// ClaimVerification takes over the pending verification of r (as
// Unverified returned it) to verify it again: it succeeds only while r's
// deployment is still active, still pending and not claimed since
// (VerificationAt unchanged), records the claim's time as the new
// VerificationAt (in r too) and the audit event deploy.reverify. False,
// nil: the deployment was superseded, got its verdict, or another server
// claimed it first.
func (s *Service) ClaimVerification(ctx context.Context, r *Release, actor string) (bool, error) {
	d := &r.Deployment
	seen := "" // VerificationAt as stored
	if d.VerificationAt != nil {
		seen = fmtTime(*d.VerificationAt)
	}
	now := s.opts.Now().UTC()
	claimed := false
	err := s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deployments SET verification_at = $1
			WHERE id = $2 AND verification = $3 AND verification_at = $4
			AND id = (SELECT active_id FROM environments WHERE project = $5 AND name = $6)`,
			fmtTime(now), d.ID, VerifyPending, seen, r.Project, r.Environment)
		if err != nil {
			return err
		}
		if claimed = affected(res) == 1; !claimed {
			return nil
		}
		since := "at an unknown time"
		if seen != "" {
			since = "at " + d.VerificationAt.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return s.audit(ctx, tx, Event{Action: "deploy.reverify", Project: r.Project, Environment: r.Environment,
			Deployment: d.ID, Actor: actor,
			Detail: fmt.Sprintf("the verification of deployment %d, begun %s, did not finish; verifying it again", d.ID, since)})
	})
	if err != nil {
		return false, fmt.Errorf("deploy: take over the verification of deployment %d: %w", d.ID, err)
	}
	if claimed {
		d.VerificationAt = &now
	}
	return claimed, nil
}

// RecordVerification records the verdict of deployment id's pending
// verification: VerifyPassed or VerifyFailed. A deployment no longer
// pending (superseded, or failed and taken back by Revert) keeps its
// state; it reports whether the verdict was recorded.
func (s *Service) RecordVerification(ctx context.Context, id int64, verdict string) (bool, error) {
	if verdict != VerifyPassed && verdict != VerifyFailed {
		return false, usererr.New(usererr.Invalid, "verification verdict %q: want %s or %s", verdict, VerifyPassed, VerifyFailed)
	}
	res, err := s.opts.DB.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 0
		WHERE id = $3 AND verification = $4`, verdict, s.now(), id, VerifyPending)
	if err != nil {
		return false, fmt.Errorf("deploy: record the verification of deployment %d: %w", id, err)
	}
	return affected(res) == 1, nil
}

// RunPassed records that the health checks of pipeline run run passed on
// deployment id of project's env, which the run made (VerifyByRun): it is
// then VerifyPassed, and counts for promote_from. Only while it is still
// the active deployment there and without a verdict: the checks probed the
// environment, so they vouch for what it served. It reports whether the
// verdict was recorded.
func (s *Service) RunPassed(ctx context.Context, project, env string, id int64, run string) (bool, error) {
	res, err := s.opts.DB.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2
		WHERE id = $3 AND project = $4 AND environment = $5 AND run = $6 AND verification = $7 AND failure = ''
		AND id = (SELECT active_id FROM environments WHERE project = $4 AND name = $5)`,
		VerifyPassed, s.now(), id, project, env, run, VerifyByRun)
	if err != nil {
		return false, fmt.Errorf("deploy: record the health checks of run %s on deployment %d: %w", run, id, err)
	}
	return affected(res) == 1, nil
}
