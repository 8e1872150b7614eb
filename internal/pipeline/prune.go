package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Retention defaults: GitHub Actions keeps logs and artifacts 90 days.
const (
	DefaultRetention = 90 * 24 * time.Hour
	DefaultKeepRuns  = 50
)

// Retention says which finished runs Prune deletes: those older than
// MaxAge beyond the newest Keep of their project. A run queued, running
// or waiting for approval is never deleted, nor a succeeded release whose
// artifact a retained deployment still references (InUse), nor a
// project's newest succeeded release (a new release tag is checked
// against it).
type Retention struct {
	// MaxAge: runs created longer ago are pruned (0: DefaultRetention;
	// negative: never pruned for age, so never pruned).
	MaxAge time.Duration
	// Keep is how many of each project's newest runs always stay (0:
	// DefaultKeepRuns).
	Keep int
	// InUse, when set, returns the releases (project -> versions) a
	// retained deployment references; their release runs stay.
	InUse func(ctx context.Context) (map[string]map[string]bool, error)
}

// PruneStats reports what Prune removed.
type PruneStats struct {
	Runs    int `json:"runs"`        // runs deleted with their steps, approvals and stored logs
	Folders int `json:"run_folders"` // run folders (logs, files) removed from this server's data dir
}

// finishedStatuses is the SQL list of final run statuses.
const finishedStatuses = `'succeeded', 'failed', 'cancelled', 'interrupted'`

// Prune applies the retention policy: it deletes the rows of the runs it
// selects (runs, steps, approvals, stored logs) in one transaction with a
// pipeline.prune audit record, then sweeps this server's run folders that
// have no run row. A crash between the two leaves folders without rows,
// which the next Prune or SweepFolders removes; never a row without its
// folder's logs being readable from what is left. The audit log itself is
// never pruned.
func (s *Service) Prune(ctx context.Context) (PruneStats, error) {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	var st PruneStats
	ids, err := s.prunable(ctx)
	if err != nil {
		return st, err
	}
	if st.Runs, err = s.deleteRuns(ctx, ids); err != nil {
		return st, err
	}
	if st.Folders, err = s.sweepFolders(ctx); err != nil {
		return st, err
	}
	if st != (PruneStats{}) {
		s.log.Info("pruned old runs", "runs", st.Runs, "folders", st.Folders)
	}
	return st, nil
}

// SweepFolders removes this server's run folders that have no run row
// (pruned by another server, or by a Prune a crash interrupted). Servers
// sharing a database each keep the folders of the runs they executed, so
// every one of them sweeps its own.
func (s *Service) SweepFolders(ctx context.Context) (int, error) {
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	return s.sweepFolders(ctx)
}

type runAge struct {
	id                     int64
	project, kind, version string
	status                 string
	created                time.Time
}

// prunable returns the ids of the runs the retention policy drops.
func (s *Service) prunable(ctx context.Context) ([]int64, error) {
	p := s.opts.Retention
	if p.MaxAge < 0 {
		return nil, nil
	}
	maxAge, keep := cmpOr(p.MaxAge, DefaultRetention), cmpOr(p.Keep, DefaultKeepRuns)
	runs, err := s.runAges(ctx)
	if err != nil {
		return nil, err
	}
	var inUse map[string]map[string]bool
	if p.InUse != nil {
		if inUse, err = p.InUse(ctx); err != nil {
			return nil, fmt.Errorf("pipeline: prune: the releases deployments use: %w", err)
		}
	}
	cutoff, seen, released := s.now().Add(-maxAge), map[string]int{}, map[string]bool{}
	var ids []int64
	for _, r := range runs { // newest first
		seen[r.project]++
		lastRelease := r.kind == "release" && r.status == Succeeded && !released[r.project]
		if lastRelease {
			released[r.project] = true
		}
		switch {
		case seen[r.project] <= keep, !Finished(r.status), !r.created.Before(cutoff):
		case r.kind == "release" && r.status == Succeeded && inUse[r.project][r.version]:
		case lastRelease: // the next release's tag must be newer than this one
		default:
			ids = append(ids, r.id)
		}
	}
	return ids, nil
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func (s *Service) runAges(ctx context.Context) ([]runAge, error) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT id, project, kind, version, status, created_at FROM pipeline_runs ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("pipeline: prune: list runs: %w", err)
	}
	defer rows.Close()
	var out []runAge
	for rows.Next() {
		var r runAge
		var created string
		if err := rows.Scan(&r.id, &r.project, &r.kind, &r.version, &r.status, &created); err != nil {
			return nil, err
		}
		r.created = parseTS(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// pruneBatch bounds the ids of one statement (SQLite and PostgreSQL both
// cap bound parameters).
const pruneBatch = 500

// deleteRuns deletes the runs' rows and those referencing them, children
// first (foreign keys), with the audit record, in one transaction. A run
// that is not finished (it cannot be, but the check is cheap) stays.
func (s *Service) deleteRuns(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	n := 0
	err := s.opts.DB.Tx(ctx, func(tx *sql.Tx) error {
		n = 0
		for start := 0; start < len(ids); start += pruneBatch {
			batch := ids[start:min(start+pruneBatch, len(ids))]
			in, args := inList(batch)
			for _, table := range []string{"pipeline_step_secrets", "pipeline_step_files", "pipeline_step_logs", "pipeline_approvals", "pipeline_steps"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE run_id IN (SELECT id FROM pipeline_runs
					WHERE id IN `+in+` AND status IN (`+finishedStatuses+`))`, args...); err != nil {
					return fmt.Errorf("pipeline: prune %s: %w", table, err)
				}
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM pipeline_runs WHERE id IN `+in+` AND status IN (`+finishedStatuses+`)`, args...)
			if err != nil {
				return fmt.Errorf("pipeline: prune runs: %w", err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return s.audit(ctx, tx, AuditEvent{Action: "pipeline.prune", Target: "runs", Actor: "phoenix:retention",
			Detail: s.pruneDetail(n, ids)})
	})
	return n, err
}

func (s *Service) pruneDetail(n int, ids []int64) string {
	p := s.opts.Retention
	return fmt.Sprintf("retention deleted %d run(s) (runs %d to %d at most) older than %s beyond the newest %d of each project",
		n, ids[len(ids)-1], ids[0], config.FormatDuration(cmpOr(p.MaxAge, DefaultRetention)), cmpOr(p.Keep, DefaultKeepRuns))
}

// inList returns "($1, $2, ...)" and its arguments.
func inList(ids []int64) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1))
		args[i] = id
	}
	b.WriteByte(')')
	return b.String(), args
}

// sweepFolders removes the run folders under LogDir with no run row. A
// folder is made only after its run's row is committed, so one without a
// row is a pruned run's. Entries not named by a run id are left alone.
func (s *Service) sweepFolders(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(s.opts.LogDir)
	if err != nil {
		return 0, fmt.Errorf("pipeline: sweep run folders: %w", err)
	}
	var ids []int64
	for _, e := range entries {
		if id, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && id > 0 && e.IsDir() && e.Name() == itoa(id) {
			ids = append(ids, id)
		}
	}
	n := 0
	for start := 0; start < len(ids); start += pruneBatch {
		batch := ids[start:min(start+pruneBatch, len(ids))]
		live, err := s.existingRuns(ctx, batch)
		if err != nil {
			return n, err
		}
		for _, id := range batch {
			if live[id] {
				continue
			}
			if err := os.RemoveAll(s.runDir(id)); err != nil {
				return n, fmt.Errorf("pipeline: remove the folder of pruned run %d: %w", id, err)
			}
			n++
		}
	}
	return n, nil
}

func (s *Service) existingRuns(ctx context.Context, ids []int64) (map[int64]bool, error) {
	in, args := inList(ids)
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT id FROM pipeline_runs WHERE id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("pipeline: sweep run folders: %w", err)
	}
	defer rows.Close()
	live := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		live[id] = true
	}
	return live, rows.Err()
}
