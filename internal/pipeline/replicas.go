package pipeline

import (
	"context"
	"fmt"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// Several servers may share one database (docs/postgres.md, "Several
// servers"): any of them queues runs, records approvals and asks for
// cancels; the leader alone executes runs. What one server changes, it
// announces on RunsChannel; the others call Poke then, and every few
// seconds in case a notification was lost.

// RunsChannel is the store notification channel of run changes (the
// payload is the run id).
const RunsChannel = "phoenix_runs"

// announce tells the other servers that run id changed.
func (s *Service) announce(ctx context.Context, id int64) {
	if err := s.opts.DB.Notify(ctx, RunsChannel, itoa(id)); err != nil {
		s.log.Warn("pipeline: cannot notify the other servers; they see the change at their next poll", "run", id, "err", err)
	}
}

// Poke acts on what other servers changed: it loads the workflows of
// projects registered elsewhere, starts queued runs (when this server
// leads), wakes the runs waiting for approvals so they count
// again, and cancels the runs whose cancel was asked on another server.
func (s *Service) Poke(ctx context.Context) {
	s.syncProjects(ctx)
	s.dispatch()
	s.mu.Lock()
	active := make(map[int64]*execution, len(s.active))
	for id, e := range s.active {
		active[id] = e
	}
	s.mu.Unlock()
	if len(active) == 0 {
		return
	}
	for _, e := range active {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	for id, by := range s.cancelsAsked(ctx) {
		if e := active[id]; e != nil {
			e.cancel(fmt.Errorf("cancelled by %s", firstNonEmpty(by, "a user")))
		}
	}
}

// cancelsAsked is run id -> who asked, for unfinished runs whose cancel
// was asked on another server.
func (s *Service) cancelsAsked(ctx context.Context) map[int64]string {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT id, cancel_by FROM pipeline_runs WHERE cancel_by <> '' AND status IN ($1, $2)`,
		Running, Waiting)
	if err != nil {
		s.log.Error("pipeline: list asked cancels", "err", err)
		return nil
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var by string
		if rows.Scan(&id, &by) == nil {
			out[id] = by
		}
	}
	return out
}

// cancelElsewhere records the cancel of a run another server executes and
// tells it; the run ends as cancelled there.
func (s *Service) cancelElsewhere(ctx context.Context, id int64, actor string) error {
	res, err := s.opts.DB.ExecContext(ctx, `UPDATE pipeline_runs SET cancel_by = $1 WHERE id = $2 AND status IN ($3, $4)`,
		firstNonEmpty(actor, "a user"), id, Running, Waiting)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return usererr.New(usererr.Conflict, "run %d finished meanwhile", id)
	}
	s.announce(ctx, id)
	return nil
}

// claim marks queued run r as this server's to execute; false when it is
// no longer queued (cancelled meanwhile, or taken by a leader before).
func (s *Service) claim(ctx context.Context, r *Run) bool {
	runner := ""
	if s.opts.Runner != nil {
		runner = s.opts.Runner()
	}
	res, err := s.opts.DB.ExecContext(ctx, `UPDATE pipeline_runs SET status = $1, runner = $2 WHERE id = $3 AND status = $4`,
		Running, runner, r.ID, Queued)
	if err != nil {
		s.log.Error("pipeline: claim run", "run", r.ID, "err", err)
		return false
	}
	n, _ := res.RowsAffected()
	return n == 1
}

// syncProjects registers again the projects another server registered
// (a release there), so their schedules, webhooks and event triggers work
// here too.
func (s *Service) syncProjects(ctx context.Context) {
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT name, dir, updated_at FROM pipeline_projects ORDER BY name`)
	if err != nil {
		s.log.Error("pipeline: list projects", "err", err)
		return
	}
	type proj struct{ name, dir, at string }
	var changed []proj
	s.mu.Lock()
	for rows.Next() {
		var p proj
		if rows.Scan(&p.name, &p.dir, &p.at) == nil && s.known[p.name] != p.at {
			changed = append(changed, p)
		}
	}
	s.mu.Unlock()
	rows.Close()
	for _, p := range changed {
		s.registerFrom(ctx, p.name, p.dir, p.at)
	}
}

// Runner is the API address of the server that executes (or executed)
// run id ("" when none was recorded: not started yet, or a server without
// Options.Runner).
func (s *Service) Runner(ctx context.Context, id int64) (string, error) {
	var runner string
	err := s.opts.DB.QueryRowContext(ctx, `SELECT runner FROM pipeline_runs WHERE id = $1`, id).Scan(&runner)
	if err != nil {
		return "", fmt.Errorf("pipeline: runner of run %d: %w", id, err)
	}
	return runner, nil
}
