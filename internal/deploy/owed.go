package deploy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/notify"
)

// OwedAlert is the announcement an automatic rollback owes its channels
// (deploy.rolled_back, or deploy.failed when there was nothing to roll
// back to). Revert records it in its transaction when the caller
// announces the outcome (RevertRequest.Alert), and it stays owed until
// AlertQueued: a stop or a crash between the commit and the announcement
// leaves it for the next start to send.
type OwedAlert struct {
	Failed Deployment // taken back, or left active; Failure says why it failed
	// Restored is the deployment the rollback made active; ID 0 when
	// none could be (no earlier deployment that did not fail), so Failed
	// stays active.
	Restored Deployment
	Domains  []string  // the environment's, for links
	At       time.Time // when the rollback (or the failure's record) committed
	// Facts are what the failed verification measured, as the rollback
	// recorded them (RevertRequest.Facts); none from before they were.
	Facts []notify.Fact
}

// oweAlert records, in the rollback's transaction tx, that the rollback
// of failed to restored (0: none, failed stays active) at owes its
// alert, when r asks for it.
func oweAlert(ctx context.Context, tx *sql.Tx, r RevertRequest, failed, restored int64, at time.Time) error {
	if !r.Alert {
		return nil
	}
	facts, err := json.Marshal(r.Facts)
	if err != nil {
		return fmt.Errorf("deploy: record the alert the rollback of deployment %d owes: %w", failed, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO deploy_owed_alerts (failed, project, environment, restored, reason, at, facts)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (failed) DO NOTHING`,
		failed, r.Project, r.Environment, restored, r.Reason, fmtTime(at), string(facts))
	if err != nil {
		return fmt.Errorf("deploy: record the alert the rollback of deployment %d owes: %w", failed, err)
	}
	return nil
}

// OwedAlerts returns the alerts automatic rollbacks owe, oldest first:
// those whose rollback (or failure, with nothing to roll back to)
// committed and whose alert is not known to be queued (AlertQueued).
func (s *Service) OwedAlerts(ctx context.Context) ([]OwedAlert, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT failed, project, environment, restored, reason, at, facts
		FROM deploy_owed_alerts ORDER BY failed`)
	if err != nil {
		return nil, fmt.Errorf("deploy: owed alerts: %w", err)
	}
	var out []OwedAlert
	for rows.Next() {
		var o OwedAlert
		var at, facts string
		if err := rows.Scan(&o.Failed.ID, &o.Failed.Project, &o.Failed.Environment, &o.Restored.ID, &o.Failed.Failure, &at, &facts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("deploy: owed alerts: %w", err)
		}
		_ = json.Unmarshal([]byte(facts), &o.Facts) // '' (an older row) or unreadable: the alert goes without them
		o.Restored.Project, o.Restored.Environment = o.Failed.Project, o.Failed.Environment
		o.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deploy: owed alerts: %w", err)
	}
	for i := range out {
		if err := s.describeOwed(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// describeOwed completes o from the deployments and the environment as
// they are now; whatever retention or a deletion removed since stays as
// the owed row has it.
func (s *Service) describeOwed(ctx context.Context, o *OwedAlert) error {
	for _, d := range []*Deployment{&o.Failed, &o.Restored} {
		got, err := deploymentByID(ctx, s.opts.DB, d.ID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return fmt.Errorf("deploy: deployment %d of an owed alert: %w", d.ID, err)
		}
		if got.Failure == "" {
			got.Failure = d.Failure
		}
		*d = got
	}
	env, err := s.Environment(ctx, o.Failed.Project, o.Failed.Environment)
	if err == nil {
		o.Domains = env.Domains
	}
	return nil
}

// AlertQueued records that the alert the automatic rollback of deployment
// failed owed is queued for its channels (or that none takes it): no
// longer owed. Nothing owed is not an error.
func (s *Service) AlertQueued(ctx context.Context, failed int64) error {
	if _, err := s.opts.DB.ExecContext(ctx, `DELETE FROM deploy_owed_alerts WHERE failed = $1`, failed); err != nil {
		return fmt.Errorf("deploy: record the alert of the rollback of deployment %d queued: %w", failed, err)
	}
	return nil
}
