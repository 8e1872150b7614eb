package deploy

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Activation is one move of an environment's active pointer: a new
// deployment (Action "deploy") or a rollback to an earlier one.
type Activation struct {
	ID          int64     `json:"id"`
	Project     string    `json:"project"`
	Environment string    `json:"environment"`
	Action      string    `json:"action"`     // deploy or rollback
	Deployment  int64     `json:"deployment"` // the deployment it made active
	Release     string    `json:"release,omitempty"`
	Actor       string    `json:"actor,omitempty"`
	At          time.Time `json:"at"`
}

// Activations lists every activation and rollback of project ("" for
// every project), oldest first, for reports (internal/report). Rows of
// deployments retention dropped still count; their release is then "".
func (s *Service) Activations(ctx context.Context, project string) ([]Activation, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+activationColumns+`
		WHERE e.action IN ('deploy', 'rollback') AND ($1 = '' OR e.project = $1) ORDER BY e.id`, project)
	if err != nil {
		return nil, fmt.Errorf("deploy: activations: %w", err)
	}
	defer rows.Close()
	var out []Activation
	for rows.Next() {
		a, err := scanActivation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a.Activation)
	}
	return out, rows.Err()
}

// activationColumns selects deploy_events e with the release of each
// event's deployment, as scanActivation reads them.
const activationColumns = `e.id, e.project, e.environment, e.action, COALESCE(e.deployment, 0), COALESCE(a.release, ''),
	e.actor, e.detail, e.at FROM deploy_events e
	LEFT JOIN deployments d ON d.id = e.deployment LEFT JOIN artifacts a ON a.digest = d.artifact`

// scanActivation reads a row of activationColumns.
func scanActivation(rows *sql.Rows) (EnvActivation, error) {
	var a EnvActivation
	var at string
	err := rows.Scan(&a.ID, &a.Project, &a.Environment, &a.Action, &a.Deployment, &a.Release, &a.Actor, &a.Detail, &at)
	a.At, _ = time.Parse(time.RFC3339Nano, at)
	return a, err
}

// Live lists what every environment of project ("" for every project)
// serves now: its active deployment, that deployment's release, since
// when it is live and the pipeline run that made it ("" for phoenix
// deploy).
func (s *Service) Live(ctx context.Context, project string) ([]Deployment, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT d.id, d.project, d.environment, d.artifact, COALESCE(a.release, ''), d.actor, d.created_at,
		e.live_since, d.run FROM environments e JOIN deployments d ON d.id = e.active_id LEFT JOIN artifacts a ON a.digest = d.artifact
		WHERE ($1 = '' OR e.project = $1) ORDER BY e.project, e.name`, project)
	if err != nil {
		return nil, fmt.Errorf("deploy: live releases: %w", err)
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		var d Deployment
		var at, live string
		if err := rows.Scan(&d.ID, &d.Project, &d.Environment, &d.Artifact, &d.Release, &d.Actor, &at, &live, &d.Run); err != nil {
			return nil, err
		}
		d.CreatedAt, _ = time.Parse(time.RFC3339Nano, at)
		d.setState(d.ID)
		d.LiveSince = parseTime(live)
		out = append(out, d)
	}
	return out, rows.Err()
}
