package app

import (
	"context"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
)

// succeeded logs, audits and publishes a backup (backup.completed).
func (b *Backups) succeeded(ctx context.Context, actor string, res *BackupResult) {
	s := res.Snapshot
	b.a.log.Info("backup taken", "snapshot", short(s.ID), "files", s.Files, "bytes", s.Size, "new_bytes", s.Added,
		"restore_test", res.RestoreTest, "forgotten", res.Forgotten)
	b.audit(ctx, audit.Event{Action: "backup.create", Actor: actor, Target: short(s.ID),
		Detail: fmt.Sprintf("%d files, %d bytes (%d new), restore test %s, %d forgotten", s.Files, s.Size, s.Added, res.RestoreTest, res.Forgotten) +
			damagedDetail(res.Damaged)})
	if b.a.Pipeline != nil {
		b.a.Pipeline.Events().Publish(ctx, trigger.Event{Name: trigger.BackupCompleted, At: time.Now(),
			Data: map[string]string{"snapshot": s.ID, "files": fmt.Sprint(s.Files), "bytes": fmt.Sprint(s.Size)}})
	}
}

// damagedDetail is what an audit record adds for the damaged snapshots a
// backup's prune kept: their short ids.
func damagedDetail(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return "; prune kept damaged snapshot(s) " + shortIDs(ids)
}

// failed audits a failed backup and sends the backup.failed notice (the
// failure may be the request's cancellation: the record and the notice
// go out regardless).
func (b *Backups) failed(ctx context.Context, actor string, err error) {
	ctx = context.WithoutCancel(ctx)
	b.audit(ctx, audit.Event{Action: "backup.create", Actor: actor, Outcome: audit.Failed, Detail: err.Error()})
	if b.a.Notify == nil {
		return
	}
	msg := notify.Message{Event: "backup.failed", Severity: notify.Critical, Time: time.Now(), Title: "Backup failed",
		Text:  err.Error(),
		Facts: []notify.Fact{{Name: "Repository", Value: b.opts.Repo}, {Name: "By", Value: actor}}}
	if _, perr := b.a.Notify.Publish(ctx, msg); perr != nil {
		b.a.log.Error("backup: cannot send the failure notice", "err", perr)
	}
}

func (b *Backups) audit(ctx context.Context, e audit.Event) {
	if _, err := b.a.Audit.Append(ctx, e); err != nil {
		b.a.log.Error("backup: audit", "err", err)
	}
}

// backupActions serve the pipeline's backup and backup/verify actions.
type backupActions struct{ a *App }

func (p backupActions) Backup(ctx context.Context, actor string) (string, string, error) {
	res, err := p.a.Backups.Run(ctx, actor)
	if err != nil {
		return "", "", err
	}
	s := res.Snapshot
	return s.ID, fmt.Sprintf("snapshot %s: %d files, %d bytes (%d new), restore test %s", short(s.ID), s.Files, s.Size, s.Added, res.RestoreTest), nil
}

func (p backupActions) VerifyBackup(ctx context.Context, id string) (string, error) {
	rep, err := p.a.Backups.Verify(ctx, id)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("snapshot %s verified: %d files, %d bytes read back", short(rep.Snapshot), rep.Files, rep.Bytes), nil
}
