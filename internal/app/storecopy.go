package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// CopyReport is what CopyToPostgres did: the destination (password
// redacted), every table it filled and the audit log's verdict there.
type CopyReport struct {
	Database string              `json:"database"`
	Tables   []store.CopiedTable `json:"tables"`
	Rows     int64               `json:"rows"`
	Audit    *audit.Report       `json:"audit"`
}

// CopyToPostgres moves a stopped server's state from <dataDir>/state.db
// into the empty PostgreSQL database at dsn: it locks the data dir (a
// running server is refused), claims the database (a server on it is
// refused), applies the migrations there, copies every table in one
// transaction (store.Copy: counts and row checksums compared before
// commit), verifies the copied audit log with the server's verifier key
// and finally writes <dataDir>/state.postgres, after which the data dir
// starts only with the database URL. No row of state.db is written:
// it stays as it was, the way back.
func CopyToPostgres(ctx context.Context, dataDir, dsn string, progress store.CopyProgress) (*CopyReport, error) {
	if err := CheckDatabaseURL("--to", dsn); err != nil {
		return nil, err
	}
	state := filepath.Join(dataDir, "state.db")
	if b, err := os.ReadFile(filepath.Join(dataDir, PostgresMarker)); err == nil {
		return nil, usererr.New(usererr.Conflict, "data dir %s already keeps its state in PostgreSQL (%s)", dataDir, strings.TrimSpace(string(b))).
			WithHint("start it with --database-url; to copy again, remove %s first (state.db is unchanged since the copy)", PostgresMarker)
	}
	if _, err := os.Stat(state); err != nil {
		return nil, usererr.New(usererr.NotFound, "no state.db in %s", dataDir).WithHint("give the data dir of the SQLite server (--data DIR)")
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		if usererr.KindOf(err) == usererr.Conflict {
			return nil, usererr.New(usererr.Conflict, "%s", err.Error()).WithHint("stop the server first: the copy reads a state.db nobody writes")
		}
		return nil, err
	}
	defer lock.release()
	src, err := store.OpenSQLite(ctx, state)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	dst, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, usererr.Wrap(usererr.Unavailable, err, err.Error()).WithHint("check --to: that the server runs, the database exists and the user may log in to it")
	}
	defer dst.Close()
	release, err := dst.Claim(ctx, nil)
	if errors.Is(err, store.ErrClaimed) {
		return nil, usererr.Wrap(usererr.Conflict, err, "database "+dst.Where()+" is in use by a Phoenix server").WithHint("copy into a database of its own: a new one (createdb), no server on it")
	}
	if err != nil {
		return nil, err
	}
	defer release()
	rep, err := copyInto(ctx, src, dst, dataDir, progress)
	if err != nil {
		return nil, err
	}
	marker := filepath.Join(dataDir, PostgresMarker)
	if err := os.WriteFile(marker, []byte(dst.Where()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("record the database in the data dir: %w", err)
	}
	return rep, nil
}

// copyInto migrates dst, copies src into it and verifies the audit log
// there.
func copyInto(ctx context.Context, src, dst *store.DB, dataDir string, progress store.CopyProgress) (*CopyReport, error) {
	if _, err := dst.MigrateAll(ctx, migrations()...); err != nil {
		return nil, err
	}
	tables, err := store.Copy(ctx, src, dst, progress)
	if errors.Is(err, store.ErrNotEmpty) {
		return nil, usererr.Wrap(usererr.Conflict, err, fmt.Sprintf("database %s already holds Phoenix data: %v", dst.Where(), err)).
			WithHint("copy into an empty database (createdb a new one); the copy never overwrites or merges")
	}
	if err != nil {
		return nil, usererr.Wrap(usererr.Conflict, err, "copy to "+dst.Where()+": "+err.Error()).
			WithHint("nothing was written to the database; state.db is unchanged")
	}
	rep := &CopyReport{Database: dst.Where(), Tables: tables}
	for _, t := range tables {
		rep.Rows += t.Rows
	}
	key, err := startAuditKey(dataDir)
	if err != nil {
		return nil, err
	}
	rep.Audit, err = audit.New(audit.Options{DB: dst, Verifier: key.Verifier}).Verify(ctx)
	if err != nil {
		return nil, err
	}
	if !rep.Audit.OK {
		return rep, usererr.New(usererr.Conflict, "the audit log copied to %s does not verify: record %d: %s", dst.Where(), rep.Audit.FirstBad, rep.Audit.Problem).
			WithHint("%s was not written, so the data dir still runs on state.db; check it with 'phoenix audit verify --data DIR', and drop the database's tables before copying again", PostgresMarker)
	}
	return rep, nil
}
