package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/store/storetest"
)

func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLiteContract(t *testing.T) { storetest.Run(t, openSQLite) }

func TestSQLiteFileIsPrivate(t *testing.T) {
	db := openSQLite(t)
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestSplitStatements(t *testing.T) {
	got := store.SplitStatementsForTest("-- c\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n y INT\n);\nSELECT 1")
	want := []string{"CREATE TABLE a (x INT);", "CREATE TABLE b (\n y INT\n);", "SELECT 1"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stmt %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCheckpointerKeepsTheWALSmall(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x BLOB)`); err != nil {
		t.Fatal(err)
	}
	blob := make([]byte, 64<<10)
	for i := 0; i < 200; i++ { // ~13 MiB through the WAL
		if _, err := db.ExecContext(ctx, `INSERT INTO t (x) VALUES ($1)`, blob); err != nil {
			t.Fatal(err)
		}
	}
	// A checkpoint folds every frame in (busy=1 only means the background
	// checkpointer was running at that instant: ask again).
	var busy, logPages, done int
	for attempt := 0; attempt < 1000; attempt++ {
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logPages, &done); err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			break
		}
	}
	if busy != 0 || done != logPages {
		t.Fatalf("checkpoint: busy=%d log=%d checkpointed=%d", busy, logPages, done)
	}
	var auto int
	db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto)
	if auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d: commits would pay for checkpoints", auto)
	}
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("WAL is %d bytes after Close, want it truncated", fi.Size())
	}
}

// TestSnapshotIsConsistentUnderWrites takes a snapshot while a writer
// commits pairs of rows: the copy must hold whole transactions only (an
// even count) and every pair committed before the snapshot began.
func TestSnapshotIsConsistentUnderWrites(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	pair := func(i int) error {
		return db.Tx(ctx, func(tx *sql.Tx) error {
			for range 2 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (x) VALUES ($1)`, i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := range 50 {
		if err := pair(i); err != nil {
			t.Fatal(err)
		}
	}
	stop, done := make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 50; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := pair(i); err != nil {
				done <- err
				return
			}
		}
	}()
	dst := filepath.Join(t.TempDir(), "snap.db")
	err := db.Snapshot(ctx, dst)
	close(stop)
	if werr := <-done; werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Snapshot(ctx, dst); err == nil {
		t.Fatal("snapshot over an existing file succeeded")
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v, mode %v", err, fi.Mode().Perm())
	}
	snap, err := store.OpenSQLite(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var n int
	if err := snap.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n < 100 || n%2 != 0 {
		t.Fatalf("snapshot holds %d rows: want an even count of at least 100", n)
	}
}

// TestSnapshotLeavesEphemeralRowsOut: an Ephemeral table's rows stay out
// of a snapshot (its schema stays), every other table's rows go in.
func TestSnapshotLeavesEphemeralRowsOut(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	for _, q := range []string{`CREATE TABLE t (x INTEGER)`, `CREATE TABLE beats (who TEXT)`,
		`INSERT INTO t (x) VALUES (1), (2)`, `INSERT INTO beats (who) VALUES ('replica-1')`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Ephemeral("beats")
	dst := filepath.Join(t.TempDir(), "snap.db")
	if err := db.Snapshot(ctx, dst); err != nil {
		t.Fatal(err)
	}
	snap, err := store.OpenSQLite(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var rows, beats int
	if err := snap.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM t), (SELECT COUNT(*) FROM beats)`).Scan(&rows, &beats); err != nil {
		t.Fatal(err)
	}
	if rows != 2 || beats != 0 {
		t.Fatalf("snapshot holds %d rows of t (want 2) and %d of the ephemeral table (want 0)", rows, beats)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM beats`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the live table lost its rows: %d, %v", n, err)
	}
}
