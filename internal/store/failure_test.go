package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/phoenixvc/phoenix/internal/store"
)

// TestDiskFullOfSQLite: a commit SQLite refuses for want of room (here its
// page limit, as a full disk does) counts as a full disk, as does a file
// write's ENOSPC; other errors do not.
func TestDiskFullOfSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the page limit is the connection's
	if _, err := db.ExecContext(ctx, "CREATE TABLE filler (b BLOB)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA max_page_count = 16"); err != nil {
		t.Fatal(err)
	}
	var full error
	for i := 0; i < 100 && full == nil; i++ {
		full = db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO filler (b) VALUES (zeroblob(4096))")
			return err
		})
	}
	if full == nil || !strings.Contains(full.Error(), "full") {
		t.Fatalf("100 inserts into 16 pages: %v", full)
	}
	if !store.DiskFull(full) || store.Unreachable(full) {
		t.Fatalf("DiskFull(%v) = false or Unreachable = true", full)
	}
	enospc := fmt.Errorf("put blob: %w", &os.PathError{Op: "write", Path: "/data/blobs/x", Err: syscall.ENOSPC})
	if !store.DiskFull(enospc) {
		t.Fatalf("DiskFull(%v) = false", enospc)
	}
	s3 := fmt.Errorf("put blob: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
	for _, e := range []error{nil, errors.New("database or disk is full"), os.ErrNotExist, s3} {
		if store.DiskFull(e) || store.Unreachable(e) {
			t.Fatalf("%v counts as a full disk or an unreachable database", e)
		}
	}
}

// TestUnreachablePostgres: a PostgreSQL nobody listens for counts as an
// unreachable database.
func TestUnreachablePostgres(t *testing.T) {
	_, err := pgx.Connect(context.Background(), "postgres://phoenix@127.0.0.1:1/phoenix?connect_timeout=2")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if !store.Unreachable(fmt.Errorf("store: begin: %w", err)) || store.DiskFull(err) {
		t.Fatalf("Unreachable(%v) = false or DiskFull = true", err)
	}
}
