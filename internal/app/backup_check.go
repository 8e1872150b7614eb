package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/backup"
	"github.com/phoenixvc/phoenix/internal/store"
)

// removeStaleRestoreTests removes the folders of restore tests a crashed
// process did not finish; no backup runs yet, so none is in use.
func removeStaleRestoreTests(dataDir string) {
	stale, _ := filepath.Glob(filepath.Join(dataDir, restoreTestPrefix+"*"))
	for _, d := range stale {
		os.RemoveAll(d)
	}
}

// restoreTestPrefix names the restore test's folder in the data dir.
const restoreTestPrefix = ".tmp-restore-test-"

// restoreTest checks that the snapshot would bring the server back: every
// file is read back and matched to its digest (Verify), and the database
// and keys are restored into a temporary folder in the data dir, where the
// database must pass SQLite's integrity check and its audit chain must
// verify with this server's audit key (on PostgreSQL: pg_restore must read
// the whole dump). Blobs are read, not written: the
// test costs no disk space the size of the store.
func (b *Backups) restoreTest(ctx context.Context, repo *backup.Repo, id string) error {
	rep, err := repo.Verify(ctx, id, nil)
	if err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		return fmt.Errorf("%d file(s) do not read back, first: %s", len(rep.Problems), rep.Problems[0])
	}
	tmp, err := os.MkdirTemp(b.a.opts.DataDir, restoreTestPrefix) // ".tmp-": never backed up
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dst := filepath.Join(tmp, "data")
	notBlobs := func(p string) bool { return !strings.HasPrefix(p, "blobs/") }
	if _, err := repo.RestoreOnly(ctx, id, dst, notBlobs); err != nil {
		return err
	}
	if b.a.DB.Dialect == store.Postgres {
		// Restoring a dump needs a database of its own: the test reads
		// the whole archive back instead.
		return store.CheckDump(ctx, filepath.Join(dst, b.a.DB.SnapshotFile()))
	}
	return checkRestoredDB(ctx, filepath.Join(dst, "state.db"), b.a.Audit.Verifier())
}

// checkRestoredDB opens a restored database and checks it whole.
func checkRestoredDB(ctx context.Context, path string, v note.Verifier) error {
	db, err := store.OpenSQLite(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		return err
	}
	if check != "ok" {
		return fmt.Errorf("restored database: integrity check: %s", check)
	}
	rep, err := audit.New(audit.Options{DB: db, Verifier: v}).Verify(ctx)
	if err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("restored audit log: record %d: %s", rep.FirstBad, rep.Problem)
	}
	return nil
}

// Verify reads back every file of a snapshot ("latest" or an id prefix)
// and fails, naming what is damaged, if any is missing or altered.
func (b *Backups) Verify(ctx context.Context, id string) (*backup.VerifyReport, error) {
	repo, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	rep, err := repo.Verify(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("backup %s: %d problem(s), first: %s", short(rep.Snapshot), len(rep.Problems), rep.Problems[0])
	}
	return rep, nil
}
