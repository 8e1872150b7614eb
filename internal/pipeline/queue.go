package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// enqueue records r as queued and dispatches.
func (s *Service) enqueue(ctx context.Context, r *Run) (*Run, error) {
	return s.enqueueThen(ctx, r, nil)
}

// enqueueThen is enqueue calling queued, when set, once the run is
// recorded and before this server may start it.
func (s *Service) enqueueThen(ctx context.Context, r *Run, queued func(*Run)) (*Run, error) {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping {
		return nil, usererr.New(usererr.Unavailable, "the server is stopping; release again when it is back")
	}
	if err := s.insertRun(ctx, r); err != nil {
		return nil, err
	}
	s.log.Info("run queued", "run", r.ID, "project", r.Project, "kind", r.Kind, "version", r.Version, "keys", r.keys)
	if queued != nil {
		queued(r)
	}
	s.announce(ctx, r.ID)
	s.dispatch()
	return r, nil
}

// dispatch starts every queued run whose queue keys are free, oldest
// first, when this server leads. A run waits while an older queued run
// shares one of its keys, so each environment releases in the order
// releases were asked for.
func (s *Service) dispatch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || !s.leading {
		return
	}
	ctx := context.Background()
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT `+runCols+` FROM pipeline_runs WHERE status = $1 ORDER BY id`, Queued)
	if err != nil {
		s.log.Error("pipeline: list queued runs", "err", err)
		return
	}
	var queued []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			s.log.Error("pipeline: queued run", "err", err)
			continue
		}
		queued = append(queued, r)
	}
	rows.Close()
	blocked := map[string]int64{} // a key → the oldest queued run waiting for it
	for _, r := range queued {
		why := ""
		for _, k := range r.keys {
			if id, busy := s.busy[k]; busy && why == "" {
				why = fmt.Sprintf("queued: %s is held by run %d", keyLabel(k), id)
			} else if id, waits := blocked[k]; waits && why == "" {
				why = fmt.Sprintf("queued: run %d waits for %s first", id, keyLabel(k))
			}
		}
		if why != "" {
			for _, k := range r.keys {
				if _, waits := blocked[k]; !waits {
					blocked[k] = r.ID
				}
			}
			s.noteQueued(ctx, r, why)
			continue
		}
		if _, running := s.active[r.ID]; running || !s.claim(ctx, r) {
			continue
		}
		for _, k := range r.keys {
			s.busy[k] = r.ID
		}
		s.launch(r, nil)
	}
}

// noteQueued records why the queued run r does not start (its message,
// which phoenix runs and a following phoenix release show), when it
// changed: "my release does nothing" has an answer.
func (s *Service) noteQueued(ctx context.Context, r *Run, why string) {
	if r.Message == why {
		return
	}
	s.db(ctx, `UPDATE pipeline_runs SET message = $1 WHERE id = $2 AND status = $3`, why, r.ID, Queued)
}

// keyLabel names a queue key for people: "environment shop/staging",
// "workflow shop/nightly".
func keyLabel(k string) string {
	if rest, ok := strings.CutPrefix(k, "env:"); ok {
		return "environment " + rest
	}
	if rest, ok := strings.CutPrefix(k, "wf:"); ok {
		return "workflow " + rest
	}
	return k
}

// release frees r's keys after it finished and dispatches the next runs.
func (s *Service) release(r *Run) {
	s.mu.Lock()
	for _, k := range r.keys {
		if s.busy[k] == r.ID {
			delete(s.busy, k)
		}
	}
	delete(s.active, r.ID)
	s.mu.Unlock()
	s.dispatch()
}

// queuedOrActive reports whether a run holding or waiting for key exists.
func (s *Service) queuedOrActive(ctx context.Context, key string) (int64, bool) {
	s.mu.Lock()
	id, busy := s.busy[key]
	s.mu.Unlock()
	if busy {
		return id, true
	}
	rows, err := s.opts.DB.QueryContext(ctx, `SELECT id, queue_keys FROM pipeline_runs WHERE status = $1`, Queued)
	if err != nil {
		return 0, false
	}
	defer rows.Close()
	for rows.Next() {
		var keys string
		rows.Scan(&id, &keys)
		if slices.Contains(splitList(keys), key) {
			return id, true
		}
	}
	return 0, false
}

// Cancel stops a queued or executing run. Its running steps are killed
// with their process groups; steps with if: always() or cancelled() still
// run. actor is recorded.
func (s *Service) Cancel(ctx context.Context, id int64, actor string) error {
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return err
	}
	if Finished(r.Status) {
		return usererr.New(usererr.Conflict, "run %d has already finished (%s)", id, r.Status)
	}
	if err := s.audit(ctx, nil, AuditEvent{Action: "pipeline.run.cancel", Target: r.target(), Actor: actor}); err != nil {
		return err
	}
	s.mu.Lock()
	e := s.active[id]
	s.mu.Unlock()
	if e != nil {
		e.cancel(fmt.Errorf("cancelled by %s", firstNonEmpty(actor, "a user")))
		return nil
	}
	res, err := s.opts.DB.ExecContext(ctx, `UPDATE pipeline_runs SET status = $1, message = $2, finished_at = $3
		WHERE id = $4 AND status = $5`, Cancelled, "cancelled by "+firstNonEmpty(actor, "a user")+" while queued", s.ts(s.now()), id, Queued)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.cancelElsewhere(ctx, id, actor)
	}
	s.db(ctx, `UPDATE pipeline_steps SET status = $1 WHERE run_id = $2 AND status = $3`, Cancelled, id, Pending)
	s.hub.signal(id)
	s.dispatch()
	return nil
}

func (s *Service) db(ctx context.Context, q string, args ...any) {
	if _, err := s.opts.DB.ExecContext(ctx, q, args...); err != nil {
		s.log.Error("pipeline: update", "err", err)
	}
}

// Retry queues a new run with the same plan, version and environments as
// a finished (failed, cancelled or interrupted) one: at its commit, in a
// fresh checkout, when it built one; else at the commit its folder holds
// now (retryCommit).
func (s *Service) Retry(ctx context.Context, id int64, actor string) (*Run, error) {
	r, err := s.loadRun(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Finished(r.Status) {
		return nil, usererr.New(usererr.Conflict, "run %d is %s; cancel it first or wait", id, r.Status)
	}
	n := *r
	n.ID, n.RetryOf, n.Trigger, n.Actor = 0, id, "retry", firstNonEmpty(actor, r.Actor)
	n.Started, n.Finished, n.Message = zeroTime, zeroTime, ""
	n.Commit = s.retryCommit(ctx, r)
	if n.Commit != r.Commit {
		s.log.Info("pipeline: retry at another commit", "run", id, "was", r.Commit, "now", n.Commit)
	}
	return s.enqueue(ctx, &n)
}

// retryCommit is the commit a retry of r records. A run that built a
// checkout of its commit is retried at that commit exactly. One that
// built its folder as it was (in place) is retried on what the folder
// holds when it is asked for, so it reads the folder's commit (and
// "+dirty") again, as a release does: the failed run's commit would sign
// code it never held (a fix committed since, an edit not committed). A
// workflow run's commit given by its inputs (the pushed commit a webhook
// names) stays, as does r's when the folder is no git repository.
func (s *Service) retryCommit(ctx context.Context, r *Run) string {
	if r.Checkout || r.Inputs.Values["commit"] != "" {
		return r.Commit
	}
	return firstNonEmpty(s.gitHead(ctx, r.Dir), r.Commit)
}

func firstNonEmpty(a ...string) string {
	for _, s := range a {
		if s != "" {
			return s
		}
	}
	return ""
}
