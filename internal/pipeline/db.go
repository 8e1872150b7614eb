package pipeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func (s *Service) ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTS(v string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, v)
	return t
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// insertRun records a queued run and its pending steps in one transaction.
func (s *Service) insertRun(ctx context.Context, r *Run) error {
	plan, err := json.Marshal(r.Plan)
	if err != nil {
		return err
	}
	inputs, _ := json.Marshal(r.Inputs)
	var retry any
	checkout := 0
	if r.Checkout {
		checkout = 1
	}
	if r.RetryOf > 0 {
		retry = r.RetryOf
	}
	r.Created, r.Status = s.now(), Queued
	return s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO pipeline_runs (project, kind, workflow, version, environments,
			commit_sha, actor, trigger_kind, dir, plan, inputs, status, retry_of, queue_keys, created_at, checkout)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
			r.Project, r.Kind, r.Workflow, r.Version, strings.Join(r.Environments, ","), r.Commit, r.Actor, r.Trigger,
			r.Dir, string(plan), string(inputs), r.Status, retry, strings.Join(r.keys, ","), s.ts(r.Created), checkout).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("pipeline: record run: %w", err)
		}
		for i, st := range r.Plan.Steps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_steps (run_id, step, position, status) VALUES ($1, $2, $3, $4)`,
				r.ID, st.ID, i, Pending); err != nil {
				return fmt.Errorf("pipeline: record step: %w", err)
			}
		}
		return s.audit(ctx, tx, AuditEvent{Action: "pipeline.run.create", Target: r.target(), Actor: r.Actor,
			Detail: strings.Join(strings.Fields(fmt.Sprintf("%s %s %s (%s)", r.Kind, r.Workflow, r.Version, r.Trigger)), " ")})
	})
}

func (r *Run) target() string { return fmt.Sprintf("%s/run/%d", r.Project, r.ID) }

const runCols = `id, project, kind, workflow, version, environments, commit_sha, actor, trigger_kind, dir, plan,
	inputs, status, message, COALESCE(retry_of, 0), queue_keys, created_at, started_at, finished_at, checkout`

func scanRun(row interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	var envs, plan, inputs, keys, created, started, finished string
	err := row.Scan(&r.ID, &r.Project, &r.Kind, &r.Workflow, &r.Version, &envs, &r.Commit, &r.Actor, &r.Trigger,
		&r.Dir, &plan, &inputs, &r.Status, &r.Message, &r.RetryOf, &keys, &created, &started, &finished, &r.Checkout)
	if err != nil {
		return nil, err
	}
	r.Environments, r.keys = splitList(envs), splitList(keys)
	r.Created, r.Started, r.Finished = parseTS(created), parseTS(started), parseTS(finished)
	r.Plan = &spec.Plan{}
	if err := json.Unmarshal([]byte(plan), r.Plan); err != nil {
		return nil, fmt.Errorf("pipeline: run %d: stored plan: %w", r.ID, err)
	}
	json.Unmarshal([]byte(inputs), &r.Inputs)
	return &r, nil
}

// NoRun is the answer about a run that does not exist, and the API's about
// one the caller may not see: the two must not differ.
func NoRun(id int64) error {
	return usererr.New(usererr.NotFound, "no run %d", id).WithHint("list runs with phoenix runs")
}

func (s *Service) loadRun(ctx context.Context, id int64) (*Run, error) {
	r, err := scanRun(s.opts.DB.QueryRowContext(ctx, `SELECT `+runCols+` FROM pipeline_runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, NoRun(id)
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: load run %d: %w", id, err)
	}
	return r, nil
}

// Runs lists runs, newest first, plans left out. With f.Keep it reads on
// in batches until it has f.Limit runs to keep or there are no more.
func (s *Service) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	if f.Limit <= 0 || f.Limit > 1001 {
		f.Limit = 50
	}
	batch := f.Limit
	if f.Keep != nil {
		batch = max(batch, 200)
	}
	var out []Run
	before := int64(math.MaxInt64)
	if f.Before > 0 {
		before = f.Before
	}
	for {
		rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+runCols+` FROM pipeline_runs
			WHERE ($1 = '' OR project = $1) AND ($2 = '' OR status = $2) AND id < $3 ORDER BY id DESC LIMIT $4`,
			f.Project, f.Status, before, batch)
		if err != nil {
			return nil, fmt.Errorf("pipeline: list runs: %w", err)
		}
		read := 0
		runs, err := scanRuns(rows, func(r *Run) bool {
			read, before = read+1, r.ID
			return f.Keep == nil || f.Keep(r)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
		if len(out) >= f.Limit || read < batch {
			return out[:min(len(out), f.Limit)], nil
		}
	}
}

// Get returns a run with its steps (in plan order) and approvals.
func (s *Service) Get(ctx context.Context, id int64) (*RunDetail, error) {
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return nil, err
	}
	r.shown()
	d := &RunDetail{Run: *r}
	if d.Steps, err = s.loadSteps(ctx, id); err != nil {
		return nil, err
	}
	d.Approvals, err = s.approvals(ctx, id)
	return d, err
}

func (s *Service) loadSteps(ctx context.Context, id int64) ([]Step, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT step, status, attempts, exit_code, error, outputs, log_bytes,
		started_at, finished_at FROM pipeline_steps WHERE run_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("pipeline: steps of run %d: %w", id, err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		var outputs, started, finished string
		if err := rows.Scan(&st.ID, &st.Status, &st.Attempts, &st.ExitCode, &st.Error, &outputs, &st.LogBytes,
			&started, &finished); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(outputs), &st.Outputs)
		st.Started, st.Finished = parseTS(started), parseTS(finished)
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *Service) saveStep(ctx context.Context, runID int64, st *Step) error {
	outputs, _ := json.Marshal(st.Outputs)
	_, err := s.opts.DB.ExecContext(ctx, `UPDATE pipeline_steps SET status = $1, attempts = $2, exit_code = $3,
		error = $4, outputs = $5, log_bytes = $6, started_at = $7, finished_at = $8 WHERE run_id = $9 AND step = $10`,
		st.Status, st.Attempts, st.ExitCode, st.Error, string(outputs), st.LogBytes, s.ts(st.Started), s.ts(st.Finished),
		runID, st.ID)
	if err != nil {
		return fmt.Errorf("pipeline: save step %s of run %d: %w", st.ID, runID, err)
	}
	return nil
}

func (s *Service) setRunStatus(ctx context.Context, r *Run, status, message string) error {
	r.Status, r.Message = status, message
	now := s.now()
	switch {
	case status == Running && r.Started.IsZero():
		r.Started = now
	case Finished(status):
		r.Finished = now
	}
	return s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE pipeline_runs SET status = $1, message = $2, started_at = $3,
			finished_at = $4 WHERE id = $5`, status, message, s.ts(r.Started), s.ts(r.Finished), r.ID)
		if err != nil {
			return fmt.Errorf("pipeline: run %d status: %w", r.ID, err)
		}
		if !Finished(status) && status != Running {
			return nil
		}
		return s.audit(ctx, tx, AuditEvent{Action: "pipeline.run." + status, Target: r.target(), Actor: r.Actor,
			Outcome: outcome(status), Detail: message})
	})
}

func outcome(status string) string {
	switch status {
	case Failed, Interrupted:
		return "Failed"
	case Cancelled:
		return "Cancelled"
	}
	return ""
}

// releases returns the project's successful releases, newest first: the
// versions validate-tag compares a release's with.
func (s *Service) releases(ctx context.Context, project string) ([]action.Released, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT version, environments FROM pipeline_runs WHERE project = $1
		AND kind = 'release' AND status = $2 ORDER BY id DESC`, project, Succeeded)
	if err != nil {
		return nil, fmt.Errorf("pipeline: releases of %s: %w", project, err)
	}
	defer rows.Close()
	var out []action.Released
	for rows.Next() {
		var r action.Released
		var envs string
		if err := rows.Scan(&r.Version, &envs); err != nil {
			return nil, err
		}
		r.Environments = splitList(envs)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastTick implements trigger.TickStore.
func (s *Service) LastTick(ctx context.Context, key string) (time.Time, bool, error) {
	var v string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT last FROM pipeline_ticks WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return parseTS(v), true, nil
}

// SetLastTick implements trigger.TickStore.
func (s *Service) SetLastTick(ctx context.Context, key string, t time.Time) error {
	_, err := s.opts.DB.ExecContext(ctx, `INSERT INTO pipeline_ticks (key, last) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET last = excluded.last`, key, s.ts(t))
	return err
}
