package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/phoenixvc/phoenix/internal/monitor"
)

// BackupStatus is what an operator asks first about backups: when the last
// one succeeded, whether the last attempt failed and why, and when the next
// is due (GET /api/v1/backups/status, 'phoenix backup status').
type BackupStatus struct {
	Repo         string     `json:"repo"`
	Mirror       string     `json:"mirror,omitempty"` // s3://bucket/prefix that gets a copy after each backup
	Schedule     string     `json:"schedule"`
	KeepWithin   string     `json:"keep_within"`
	Running      bool       `json:"running"`
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	LastSnapshot string     `json:"last_snapshot,omitempty"`
	LastFailure  *time.Time `json:"last_failure,omitempty"`
	LastError    string     `json:"last_error,omitempty"` // of the last attempt, if it failed
	// Warning is what the last successful backup's retention could not do
	// (a damaged snapshot it kept, and how to remove it); "" when it did all.
	Warning string     `json:"warning,omitempty"`
	NextRun *time.Time `json:"next_run,omitempty"`
	// Overdue is set when the schedule has let two runs pass without a
	// successful backup (or, with none at all, since the server started).
	Overdue bool `json:"overdue"`
}

// backupState is the live part of BackupStatus.
type backupState struct {
	mu    sync.Mutex
	sched cron.Schedule // nil: no schedule
	st    BackupStatus
	// began is when this server took the schedule on: with no successful
	// backup at all, two runs missed since then make the backups overdue.
	began time.Time
	// reread is when the repository was last listed for a newer snapshot
	// than this server knows of (another replica's), while overdue.
	reread time.Time
}

func (s *backupState) update(fn func(*BackupStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.st)
}

// snapshot returns the status as of now.
func (s *backupState) snapshot(now time.Time) BackupStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	if s.sched != nil {
		next := s.sched.Next(now)
		st.NextRun = &next
		since := st.LastSuccess
		if since == nil {
			since = &s.began
		}
		st.Overdue = !st.Running && overdue(s.sched, since, now)
	}
	return st
}

// overdue reports whether two scheduled runs have come and gone since the
// last success: one missed run can be a slow backup, two are a pattern.
func overdue(sched cron.Schedule, last *time.Time, now time.Time) bool {
	if last == nil {
		return false // nothing to be late against until the first run is due
	}
	second := sched.Next(sched.Next(*last))
	return now.After(second)
}

func ptr(t time.Time) *time.Time { return &t }

// days writes d as whole days ("90d") when it is some, else as Go does.
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// backupHealth is the backup schedule's state for the monitor's built-in
// backup-overdue alert; nil without a repository or a schedule. Overdue
// here may only mean that another replica (the leader before a failover)
// made the backups, so the repository is listed again first, at most
// every few minutes.
func (a *App) backupHealth(ctx context.Context) (*monitor.BackupHealth, error) {
	b := a.Backups
	if b == nil || b.opts.Repo == "" || b.state.sched == nil {
		return nil, nil
	}
	now := time.Now()
	st := b.state.snapshot(now)
	if st.Overdue && b.state.rereadDue(now) {
		b.adoptNewest(ctx)
		st = b.state.snapshot(now)
	}
	h := &monitor.BackupHealth{Repo: st.Repo, Overdue: st.Overdue, Since: b.state.began}
	if st.LastSuccess != nil {
		h.Since = *st.LastSuccess
	}
	return h, nil
}

// rereadDue reports whether the repository may be listed again.
func (s *backupState) rereadDue(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.reread) < 5*time.Minute {
		return false
	}
	s.reread = now
	return true
}
