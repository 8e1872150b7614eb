package deploy

import (
	"context"
	"fmt"
	"time"
)

// EnvActivation is one activation in an environment's history: what went
// live, when, why, and until when it stayed live.
type EnvActivation struct {
	Activation
	// Detail is why: the deploy's message, "from deployment 41 to 40" for
	// a rollback, with the failed verification for an automatic one.
	Detail string `json:"detail,omitempty"`
	// Until is when the next activation replaced it; nil while it is live.
	Until *time.Time `json:"until,omitempty"`
}

// History lists env's activations (deploys and rollbacks) newest first,
// at most limit of them (0: all): which deployment served the environment
// from when until when. Deployments retention dropped keep their rows,
// with no release. An environment deleted and declared again starts a new
// history (DeleteEnvironment records where the old one ends).
func (s *Service) History(ctx context.Context, project, env string, limit int) ([]EnvActivation, error) {
	if _, err := s.Environment(ctx, project, env); err != nil {
		return nil, err
	}
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+activationColumns+`
		WHERE e.project = $1 AND e.environment = $2 AND e.action IN ('deploy', 'rollback', 'delete') ORDER BY e.id DESC`, project, env)
	if err != nil {
		return nil, fmt.Errorf("deploy: history of %s/%s: %w", project, env, err)
	}
	defer rows.Close()
	var out []EnvActivation
	var until *time.Time
	for rows.Next() && (limit <= 0 || len(out) < limit) {
		a, err := scanActivation(rows)
		if err != nil {
			return nil, err
		}
		if a.Action == "delete" {
			break // the end of an earlier environment of that name
		}
		a.Until, until = until, &a.At
		out = append(out, a)
	}
	return out, rows.Err()
}
