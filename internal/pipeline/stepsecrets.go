package pipeline

import (
	"context"
	"fmt"
	"strings"
)

// An action that fetches a secret itself (fetch-secrets, dns/update) does
// so through action.Context.Secret: the engine masks the value and records
// the secret's name against the step in pipeline_step_secrets, so a run
// resumed after a restart, here or on another server sharing the database,
// resolves it again and keeps masking it (resume.go). Only names are
// stored; values live in the masker, in memory.

// actionSecret fetches secret name for an action of step, records its
// name for a resume and masks the value as written and trimmed of
// surrounding space (the form a key file's line is used in). A value too
// short to mask is returned as is: the action refuses it.
func (e *execution) actionSecret(ctx context.Context, step, name string) (string, error) {
	v, err := e.fetchSecret(ctx, name)
	if err != nil {
		return "", err
	}
	e.maskSecret(v)
	if _, err := e.s.opts.DB.ExecContext(ctx, `INSERT INTO pipeline_step_secrets (run_id, step, name) VALUES ($1, $2, $3)
		ON CONFLICT (run_id, step, name) DO NOTHING`, e.run.ID, step, name); err != nil {
		// Unrecorded, a resume would not mask it: the action goes without.
		return "", fmt.Errorf("pipeline: record secret %s of step %s for a resume: %w", name, step, err)
	}
	return v, nil
}

// maskSecret masks v as written and trimmed of surrounding space.
func (e *execution) maskSecret(v string) {
	e.masker.Secret(v)
	e.masker.Add(strings.TrimSpace(v))
}

// fetchedSecrets returns the names of the secrets the actions of the run's
// steps fetched, by step.
func (e *execution) fetchedSecrets(ctx context.Context) (map[string][]string, error) {
	rows, err := e.s.opts.DB.QueryContext(ctx, `SELECT step, name FROM pipeline_step_secrets WHERE run_id = $1 ORDER BY step, name`, e.run.ID)
	if err != nil {
		return nil, fmt.Errorf("pipeline: the secrets the steps of run %d fetched: %w", e.run.ID, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var step, name string
		if err := rows.Scan(&step, &name); err != nil {
			return nil, fmt.Errorf("pipeline: the secrets the steps of run %d fetched: %w", e.run.ID, err)
		}
		out[step] = append(out[step], name)
	}
	return out, rows.Err()
}

// refetch resolves again the secrets an action of a finished step fetched
// and masks them. One that cannot be resolved now is one the rest of the
// run cannot print either.
func (e *execution) refetch(ctx context.Context, names []string) {
	for _, name := range names {
		if v, err := e.fetchSecret(ctx, name); err == nil {
			e.maskSecret(v)
		}
	}
}
