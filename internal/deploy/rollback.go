package deploy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Rollback re-points an environment at an earlier deployment: the newest
// one before the active one that passed verification, else the newest
// that did not fail it (lastGood), or toID when it is not zero (refused
// when that one failed verification). It rebuilds
// nothing; the cost is one transaction and a pointer swap on the edge.
// A deployment superseded before its verification's verdict is pending
// verification again once it is back (reverify).
func (s *Service) Rollback(ctx context.Context, project, envName string, toID int64, actor string) (*Deployment, error) {
	env, err := s.Environment(ctx, project, envName)
	if err != nil {
		return nil, err
	}
	fetched, err := s.fetchRollbackTarget(ctx, env, toID)
	if err != nil {
		return nil, err
	}
	var target *Deployment
	var m move
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		target, err = s.rollbackTarget(ctx, tx, env, toID)
		if err != nil {
			return err
		}
		if err := s.unchanged(env, target, fetched); err != nil {
			return err
		}
		m = s.rollbackTo(env, target.ID, actor, fmt.Sprintf("from deployment %d to %d", env.ActiveID, target.ID))
		if err := s.point(ctx, tx, m); err != nil {
			return err
		}
		return reverify(ctx, tx, target, m.at)
	})
	if err != nil {
		return nil, err
	}
	s.rolledBack(env, env.ActiveID, target, m.at)
	s.announceRollback(ctx, env, actor, *target, m.at)
	return target, nil
}

// ManualRollback is a rollback someone asked for (Rollback; an automatic
// one, Revert, owes its own critical alert): the deployment that was live
// (From; its ID alone when it cannot be read) and the one restored.
type ManualRollback struct {
	Project, Environment, Actor string
	From, To                    Deployment
	At                          time.Time
}

// RollbackListener is told, after the commit, of a ManualRollback. Like
// a Listener it must not block for long.
type RollbackListener func(ManualRollback)

// OnRollback registers l for every later rollback someone asks for.
func (s *Service) OnRollback(l RollbackListener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollbackHeard = append(s.rollbackHeard, l)
}

// announceRollback tells the OnRollback listeners that actor rolled env
// back to target at at.
func (s *Service) announceRollback(ctx context.Context, env Environment, actor string, target Deployment, at time.Time) {
	ls := listenersOf(s, &s.rollbackHeard)
	if len(ls) == 0 {
		return
	}
	from, err := deploymentByID(ctx, s.opts.DB, env.ActiveID)
	if err != nil {
		from = Deployment{ID: env.ActiveID}
	}
	ev := ManualRollback{Project: env.Project, Environment: env.Name, Actor: actor, From: from, To: target, At: at}
	for _, l := range ls {
		l(ev)
	}
}

// reverify puts back to pending the verification of d, which a rollback
// re-activates, when a newer deploy or a rollback superseded it before
// its verdict: it was never verified, so the server verifies it now as it
// verifies a new deployment. A rollback to a deployment that passed, or
// to a pipeline run's (whose run verified it), is not verified again.
func reverify(ctx context.Context, tx *sql.Tx, d *Deployment, at time.Time) error {
	if d.Verification != VerifySuperseded {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE deployments SET verification = $1, verification_at = $2, verify_restored = 0
		WHERE id = $3 AND verification = $4`, VerifyPending, fmtTime(at), d.ID, VerifySuperseded)
	if err != nil {
		return fmt.Errorf("deploy: verify deployment %d again: %w", d.ID, err)
	}
	d.Verification, d.VerificationAt, d.Restored = VerifyPending, &at, false
	return nil
}

// rolledBack marks target active, live since at, and tells the log and
// the listeners.
func (s *Service) rolledBack(env Environment, from int64, target *Deployment, at time.Time) {
	target.setState(target.ID)
	target.LiveSince = &at
	s.opts.Logger.Info("rolled back", "project", env.Project, "env", env.Name, "from", from, "to", target.ID)
	s.notify(s.release(env, *target, nil))
}

// unchanged checks that the deployment a rollback activates is the one
// whose blobs were fetched before its transaction (fetched 0: none were),
// when the blob store fetches.
func (s *Service) unchanged(env Environment, target *Deployment, fetched int64) error {
	if s.fetches() && target.ID != fetched {
		return usererr.New(usererr.Conflict, "environment %s/%s changed during the rollback", env.Project, env.Name).
			WithHint("run the rollback again")
	}
	return nil
}

// fetchRollbackTarget makes the blobs of the deployment a rollback would
// activate local files, when the blob store is a cache of a remote one
// (backend.Fetcher), and returns its id; 0 when there is nothing to fetch.
// It runs before the rollback's transaction, which checks that the target
// is still the same.
func (s *Service) fetchRollbackTarget(ctx context.Context, env Environment, toID int64) (int64, error) {
	if !s.fetches() {
		return 0, nil
	}
	t, err := s.rollbackTarget(ctx, s.opts.DB, env, toID)
	if err != nil {
		return 0, err
	}
	return s.fetchDeployment(ctx, t)
}

// fetches reports whether the blob store is a cache of a remote one, whose
// blobs a rollback fetches first.
func (s *Service) fetches() bool {
	_, ok := s.opts.Blobs.(backend.Fetcher)
	return ok
}

// fetchDeployment makes d's blobs local files (see fetch) and returns its
// id; 0 when d is nil.
func (s *Service) fetchDeployment(ctx context.Context, d *Deployment) (int64, error) {
	if d == nil {
		return 0, nil
	}
	m, err := s.Manifest(ctx, d.Artifact)
	if err != nil {
		return 0, err
	}
	if err := s.fetch(ctx, m); err != nil {
		return 0, err
	}
	return d.ID, nil
}

// rowQuerier is a transaction or the database.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// deploymentByID reads deployment id with its artifact's release.
func deploymentByID(ctx context.Context, q rowQuerier, id int64) (Deployment, error) {
	return scanDeployment(q.QueryRowContext(ctx, `SELECT `+depColumns+` FROM deployments d
		JOIN artifacts a ON a.digest = d.artifact WHERE d.id = $1`, id))
}

func (s *Service) rollbackTarget(ctx context.Context, tx rowQuerier, env Environment, toID int64) (*Deployment, error) {
	if env.ActiveID == 0 {
		return nil, usererr.New(usererr.Conflict, "environment %s/%s has no deployment to roll back from", env.Project, env.Name)
	}
	if toID != 0 {
		return namedTarget(ctx, tx, env, toID)
	}
	d, err := lastGood(ctx, tx, env, env.ActiveID)
	if err == nil && d == nil {
		return nil, usererr.New(usererr.Conflict, "no earlier deployment of %s/%s to roll back to (those that failed verification are skipped)",
			env.Project, env.Name).
			WithHint("see 'phoenix deployments --env %s'", env.Name)
	}
	return d, err
}

// namedTarget is deployment id of env, which a rollback may activate: not
// the active one, nor one that failed verification.
func namedTarget(ctx context.Context, tx rowQuerier, env Environment, id int64) (*Deployment, error) {
	d, err := scanDeployment(tx.QueryRowContext(ctx, `SELECT `+depColumns+` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND d.id = $3`, env.Project, env.Name, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, usererr.New(usererr.NotFound, "no deployment %d in %s/%s", id, env.Project, env.Name).
			WithHint("see 'phoenix deployments --env %s'", env.Name)
	case err != nil:
		return nil, err
	case d.ID == env.ActiveID:
		return nil, usererr.New(usererr.Conflict, "deployment %d is already active", d.ID).
			WithHint("%s/%s serves it now, so nothing was changed; 'phoenix deployments --env %s' lists the others", env.Project, env.Name, env.Name)
	case d.Failure != "":
		return nil, failedTarget(env, d)
	}
	return &d, nil
}

// failedTarget is the refusal of a rollback to d, which failed verification.
func failedTarget(env Environment, d Deployment) error {
	what := fmt.Sprintf("deployment %d", d.ID)
	if d.Release != "" {
		what += " (release " + d.Release + ")"
	}
	when := "earlier"
	if d.FailedAt != nil {
		when = "at " + d.FailedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return usererr.New(usererr.Conflict, "%s of %s/%s failed and was taken back %s (%s); a rollback does not return to it",
		what, env.Project, env.Name, when, d.Failure).
		WithHint("fix the release and release it again; to retry this very build, deploy it again (nothing is uploaded twice)")
}

// lastGood returns the deployment a rollback of env from id goes to: the
// newest earlier one that passed verification (the server's, or its
// pipeline run's health checks), else, when none did (no checks ever ran,
// or every earlier one was replaced before its verdict), the newest
// earlier one that did not fail; nil when there is none. A deployment
// superseded a second after going live was never verified and may be an
// empty site: a team that had a release pass expects to land on that one.
func lastGood(ctx context.Context, tx rowQuerier, env Environment, before int64) (*Deployment, error) {
	d, err := scanDeployment(tx.QueryRowContext(ctx, `SELECT `+depColumns+` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND d.id < $3 AND d.failure = ''
		ORDER BY CASE WHEN d.verification = $4 THEN 0 ELSE 1 END, d.id DESC LIMIT 1`,
		env.Project, env.Name, before, VerifyPassed))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &d, nil
}

const depColumns = `d.id, d.project, d.environment, d.artifact, a.release, d.actor, d.message, d.created_at, d.failure, d.failed_at,
	d.verification, d.verification_at, d.run, d.verify_restored`

func scanDeployment(row interface{ Scan(...any) error }) (Deployment, error) {
	var d Deployment
	var created, failed, verified string
	var restored int64
	err := row.Scan(&d.ID, &d.Project, &d.Environment, &d.Artifact, &d.Release, &d.Actor, &d.Message, &created, &d.Failure, &failed,
		&d.Verification, &verified, &d.Run, &restored)
	d.Restored = restored != 0
	d.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	d.FailedAt, d.VerificationAt = parseTime(failed), parseTime(verified)
	return d, err
}

// Deployments lists an environment's history, newest first.
func (s *Service) Deployments(ctx context.Context, project, envName string, limit int) ([]Deployment, error) {
	env, err := s.Environment(ctx, project, envName)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+depColumns+` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 ORDER BY d.id DESC LIMIT $3`, project, envName, limit)
	if err != nil {
		return nil, fmt.Errorf("deploy: history: %w", err)
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, err
		}
		d.setLive(env)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Manifest returns a recorded artifact's manifest.
func (s *Service) Manifest(ctx context.Context, digest backend.Digest) (*artifact.Manifest, error) {
	var canon []byte
	err := s.opts.DB.QueryRowContext(ctx, `SELECT manifest FROM artifacts WHERE digest = $1`, string(digest)).Scan(&canon)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, usererr.New(usererr.NotFound, "no artifact %s", digest)
	}
	if err != nil {
		return nil, fmt.Errorf("deploy: load artifact %s: %w", digest, err)
	}
	return artifact.Decode(canon)
}

// Active returns the release each environment serves, for loading the edge
// at start.
func (s *Service) Active(ctx context.Context) ([]Release, error) {
	envs, err := s.Environments(ctx, "")
	if err != nil {
		return nil, err
	}
	return s.ActiveIn(ctx, envs)
}

// ActiveIn is Active over envs, environments the caller read with
// Environments: a replica's poll reads them once for the releases to serve
// and for the environments with nothing deployed.
func (s *Service) ActiveIn(ctx context.Context, envs []Environment) ([]Release, error) {
	var out []Release
	for _, e := range envs {
		if e.ActiveID == 0 {
			continue
		}
		d, err := deploymentByID(ctx, s.opts.DB, e.ActiveID)
		if err != nil {
			return nil, fmt.Errorf("deploy: active deployment of %s/%s: %w", e.Project, e.Name, err)
		}
		d.setLive(e)
		out = append(out, s.release(e, d, nil))
	}
	return out, nil
}

// DeployedReleases returns the releases (project -> release names) of the
// artifacts the retained deployments reference: what a rollback may still
// activate. Pipeline retention keeps the runs that produced them.
func (s *Service) DeployedReleases(ctx context.Context) (map[string]map[string]bool, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT DISTINCT d.project, a.release FROM deployments d
		JOIN artifacts a ON a.digest = d.artifact WHERE a.release <> ''`)
	if err != nil {
		return nil, fmt.Errorf("deploy: deployed releases: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var project, release string
		if err := rows.Scan(&project, &release); err != nil {
			return nil, err
		}
		if out[project] == nil {
			out[project] = map[string]bool{}
		}
		out[project][release] = true
	}
	return out, rows.Err()
}
