package action

import (
	"context"
	"errors"
)

// Backuper takes and checks backups of the server's state (the backup and
// backup/verify actions; docs/backup.md). The app implements it.
type Backuper interface {
	// Backup takes a backup now and returns its snapshot id and a one-line
	// summary.
	Backup(ctx context.Context, actor string) (snapshot, summary string, err error)
	// VerifyBackup reads back every file of a snapshot ("latest" or an id)
	// and returns a summary, or an error naming what is damaged.
	VerifyBackup(ctx context.Context, snapshot string) (summary string, err error)
}

var errNoBackups = errors.New("this server takes no backups: start it with --backup-repo DIR and its key (docs/backup.md)")

// backup takes a backup of the server and outputs its snapshot id.
func (d Deps) backup(ctx context.Context, sc *Context) error {
	if d.Backups == nil {
		return errNoBackups
	}
	id, summary, err := d.Backups.Backup(ctx, "run "+sc.Run.ID)
	if err != nil {
		return err
	}
	sc.Logf("%s", summary)
	sc.SetOutput("snapshot", id)
	return nil
}

// backupVerify checks the snapshot given as input "snapshot" (default
// latest): every file read back, decrypted and matched to its digest.
func (d Deps) backupVerify(ctx context.Context, sc *Context) error {
	if d.Backups == nil {
		return errNoBackups
	}
	id := sc.String("snapshot")
	if id == "" {
		id = "latest"
	}
	summary, err := d.Backups.VerifyBackup(ctx, id)
	if err != nil {
		return err
	}
	sc.Logf("%s", summary)
	return nil
}
