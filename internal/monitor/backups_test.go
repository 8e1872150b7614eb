package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBackupOverdueAlert: with no rule written, overdue backups fire one
// alert for the repository, saying for how long there has been none; a
// failed status read changes nothing; a success resolves it; a server
// whose repository or schedule went away resolves what was left.
func TestBackupOverdueAlert(t *testing.T) {
	const repo = "/mnt/backups/phoenix"
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	src := &listing[*BackupHealth]{}
	state := func(ctx context.Context) (*BackupHealth, error) {
		hs, err := src.list(ctx)
		if err != nil || len(hs) == 0 {
			return nil, err
		}
		return hs[0], nil
	}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-", Backups: state})
	if err != nil {
		t.Fatal(err)
	}
	alerts := func() map[string]Alert { return builtinAlerts(t, m, clock, BackupRule, "") }
	src.set(nil, &BackupHealth{Repo: repo, Since: clock.Now().Add(-time.Hour)})
	if got := alerts(); len(got) != 0 {
		t.Fatalf("backups on schedule: %+v", got)
	}
	src.set(nil, &BackupHealth{Repo: repo, Overdue: true, Since: clock.Now().Add(-49 * time.Hour)})
	got := alerts()[BackupInstance(repo)]
	if got.State != StateFiring || got.ID != BackupRule+"@backup:"+repo || !ServerInstance(got.Environment) ||
		!strings.Contains(got.Summary, "no successful backup for 49 hours") || got.Severity != 1 {
		t.Fatalf("overdue: %+v", got)
	}
	if titles := strings.Join(pub.titles(), "\n"); !strings.Contains(titles, "[backup:"+repo+"] "+BackupRule+" firing") {
		t.Errorf("notifications %q", titles)
	}
	src.set(errors.New("repository unreachable"))
	if got := alerts()[BackupInstance(repo)]; got.State != StateFiring {
		t.Fatalf("a failed status read changed the alert: %+v", got)
	}
	src.set(nil, &BackupHealth{Repo: repo, Since: clock.Now()})
	if got := alerts()[BackupInstance(repo)]; got.State != StateResolved {
		t.Fatalf("after a success: %+v", got)
	}
	src.set(nil, &BackupHealth{Repo: repo, Overdue: true, Since: clock.Now().Add(-3 * time.Hour)})
	if got := alerts()[BackupInstance(repo)]; got.State != StateFiring {
		t.Fatalf("overdue again: %+v", got)
	}
	src.set(nil) // the server now runs without a repository
	if got := alerts()[BackupInstance(repo)]; got.State != StateResolved {
		t.Fatalf("without a repository: %+v", got)
	}
}
