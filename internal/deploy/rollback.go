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

// Rollback re-points an environment at an earlier deployment: the one
// before the active one, or toID when it is not zero. It rebuilds nothing;
// the cost is one transaction and a pointer swap on the edge.
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
	err = s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		target, err = s.rollbackTarget(ctx, tx, env, toID)
		if err != nil {
			return err
		}
		if fetched != 0 && target.ID != fetched {
			return usererr.New(usererr.Conflict, "environment %s/%s changed during the rollback", project, envName).
				WithHint("run the rollback again")
		}
		return s.point(ctx, tx, project, envName, target.ID, "rollback", actor,
			fmt.Sprintf("from deployment %d to %d", env.ActiveID, target.ID))
	})
	if err != nil {
		return nil, err
	}
	target.Active = true
	s.opts.Logger.Info("rolled back", "project", project, "env", envName, "from", env.ActiveID, "to", target.ID)
	s.notify(s.release(env, *target, nil))
	return target, nil
}

// fetchRollbackTarget makes the blobs of the deployment a rollback would
// activate local files, when the blob store is a cache of a remote one
// (backend.Fetcher), and returns its id; 0 when there is nothing to fetch.
// It runs before the rollback's transaction, which checks that the target
// is still the same.
func (s *Service) fetchRollbackTarget(ctx context.Context, env Environment, toID int64) (int64, error) {
	if _, ok := s.opts.Blobs.(backend.Fetcher); !ok {
		return 0, nil
	}
	t, err := s.rollbackTarget(ctx, s.opts.DB, env, toID)
	if err != nil {
		return 0, err
	}
	m, err := s.Manifest(ctx, t.Artifact)
	if err != nil {
		return 0, err
	}
	if err := s.fetch(ctx, m); err != nil {
		return 0, err
	}
	return t.ID, nil
}

// rowQuerier is a transaction or the database.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Service) rollbackTarget(ctx context.Context, tx rowQuerier, env Environment, toID int64) (*Deployment, error) {
	if env.ActiveID == 0 {
		return nil, usererr.New(usererr.Conflict, "environment %s/%s has no deployment to roll back from", env.Project, env.Name)
	}
	q := `SELECT ` + depColumns + ` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
		WHERE d.project = $1 AND d.environment = $2 AND d.id < $3 ORDER BY d.id DESC LIMIT 1`
	args := []any{env.Project, env.Name, env.ActiveID}
	if toID != 0 {
		q = `SELECT ` + depColumns + ` FROM deployments d JOIN artifacts a ON a.digest = d.artifact
			WHERE d.project = $1 AND d.environment = $2 AND d.id = $3`
		args[2] = toID
	}
	d, err := scanDeployment(tx.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		if toID != 0 {
			return nil, usererr.New(usererr.NotFound, "no deployment %d in %s/%s", toID, env.Project, env.Name).
				WithHint("see 'phoenix deployments --env %s'", env.Name)
		}
		return nil, usererr.New(usererr.Conflict, "no earlier deployment of %s/%s to roll back to", env.Project, env.Name)
	}
	if err == nil && d.ID == env.ActiveID {
		return nil, usererr.New(usererr.Conflict, "deployment %d is already active", d.ID)
	}
	return &d, err
}

const depColumns = `d.id, d.project, d.environment, d.artifact, a.release, d.actor, d.message, d.created_at`

func scanDeployment(row interface{ Scan(...any) error }) (Deployment, error) {
	var d Deployment
	var created string
	err := row.Scan(&d.ID, &d.Project, &d.Environment, &d.Artifact, &d.Release, &d.Actor, &d.Message, &created)
	d.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
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
		d.Active = d.ID == env.ActiveID
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
	var out []Release
	for _, e := range envs {
		if e.ActiveID == 0 {
			continue
		}
		d, err := scanDeployment(s.opts.DB.QueryRowContext(ctx, `SELECT `+depColumns+` FROM deployments d
			JOIN artifacts a ON a.digest = d.artifact WHERE d.id = $1`, e.ActiveID))
		if err != nil {
			return nil, fmt.Errorf("deploy: active deployment of %s/%s: %w", e.Project, e.Name, err)
		}
		d.Active = true
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
