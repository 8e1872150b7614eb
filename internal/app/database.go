package app

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// openDatabase opens the state store: <data>/state.db (SQLite), or the
// PostgreSQL database of Options.DatabaseURL, which this server then
// claims for as long as it runs (alone, as per data dir, or with the
// other replicas: replicas.go). Every other file (keys, blobs, run logs) stays in the data dir
// either way.
func (a *App) openDatabase(ctx context.Context) (*store.DB, error) {
	dsn := a.opts.DatabaseURL
	marker := filepath.Join(a.opts.DataDir, PostgresMarker)
	if dsn == "" {
		if b, err := os.ReadFile(marker); err == nil {
			return nil, usererr.New(usererr.Usage, "data dir %s keeps its state in PostgreSQL (%s), not in state.db", a.opts.DataDir, strings.TrimSpace(string(b))).
				WithHint("start with --database-url, or set %s (also for commands run without a server)", "PHOENIX_DATABASE_URL")
		}
		return store.OpenSQLite(ctx, filepath.Join(a.opts.DataDir, "state.db"))
	}
	if err := CheckDatabaseURL(a.opts.flag("database-url"), dsn); err != nil {
		return nil, err
	}
	if err := a.checkNotOnSQLite(marker); err != nil {
		return nil, err
	}
	db, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, usererr.Wrap(usererr.Unavailable, err, err.Error()).
			WithHint("check --database-url (PHOENIX_DATABASE_URL): that the server runs, the database exists and the user may log in to it")
	}
	if a.opts.Replica.On {
		done, err := db.SerializeStart(ctx, func() {
			a.log.Info("replicas: waiting for another replica to finish starting")
		})
		if err != nil {
			db.Close()
			return nil, err
		}
		a.startDone = sync.OnceFunc(done)
		a.onStop(func(context.Context) error { a.startDone(); return nil })
	}
	release, err := a.claim(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	a.onStop(func(context.Context) error { return release() })
	if err := a.recordDatabase(db); err != nil {
		release()
		db.Close()
		return nil, err
	}
	return db, nil
}

// checkNotOnSQLite refuses a database URL for a data dir whose state is
// in its state.db and was never moved (no marker): the server, or the
// in-process one of a command run with PHOENIX_DATABASE_URL exported for
// 'phoenix store copy', would begin an empty state in that database, make
// a new audit key beside the log's, and mark the dir as moved, so the copy
// of the real state is refused after.
func (a *App) checkNotOnSQLite(marker string) error {
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(a.opts.DataDir, "state.db")); err != nil {
		return nil
	}
	return usererr.New(usererr.Usage, "data dir %s keeps its state in state.db (SQLite): with %s it would start on an empty state in PostgreSQL instead",
		a.opts.DataDir, a.opts.flag("database-url")).
		WithHint("move the state first: stop the server, then phoenix store copy --data %s (docs/postgres.md, Moving from SQLite); or run without %s",
			a.opts.DataDir, a.opts.flag("database-url"))
}

// claim holds the database for this server alone, or, with replicas, for
// the replicas (a server alone and replicas never share one).
func (a *App) claim(ctx context.Context, db *store.DB) (func() error, error) {
	if a.opts.Replica.On {
		release, err := db.ClaimShared(ctx, a.log)
		if errors.Is(err, store.ErrClaimed) {
			return nil, usererr.Wrap(usererr.Conflict, err, "database "+db.Where()+" is in use by a Phoenix server started without --replica").
				WithHint("stop it and start it again with --replica, or give the replicas a database of their own (--database-url)")
		}
		return release, err
	}
	release, err := db.Claim(ctx, a.log)
	if errors.Is(err, store.ErrClaimed) {
		if shared, _ := db.ClaimedShared(ctx); shared && !a.opts.InProcess {
			return nil, usererr.Wrap(usererr.Conflict, err, "database "+db.Where()+" is in use by Phoenix replicas (servers started with --replica)").
				WithHint("start this one with --replica too (docs/postgres.md, Several servers), or give it a database of its own (--database-url)")
		}
		return nil, usererr.Wrap(usererr.Conflict, err, "database "+db.Where()+" is in use by another Phoenix server").
			WithHint("%s", a.claimedHint())
	}
	return release, err
}

// claimedHint says what to do about a database another server holds: a
// command (in-process server) is run against that server instead.
func (a *App) claimedHint() string {
	if a.opts.InProcess {
		return "run the command against the server using it: --server URL (with replicas, any running replica's URL) and PHOENIX_TOKEN; or stop that server first"
	}
	return "stop the other server, start every server with --replica (docs/postgres.md, Several servers), or give this one a database of its own (--database-url); with replicas running, point commands at one with --server URL"
}

// recordDatabase writes the data dir's PostgresMarker and logs the store.
func (a *App) recordDatabase(db *store.DB) error {
	marker := filepath.Join(a.opts.DataDir, PostgresMarker)
	if err := os.WriteFile(marker, []byte(db.Where()+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the database in the data dir: %w", err)
	}
	a.log.Info("state store", "engine", "postgres", "database", db.Where(), "replica", a.opts.Replica.On)
	return nil
}

// PostgresMarker is the file in the data dir that names (password
// redacted) the PostgreSQL database holding the dir's state; a start
// without a database URL refuses such a dir rather than begin an empty
// state.db beside it. Backups keep it, so a restored dir asks for the
// database too.
const PostgresMarker = "state.postgres"

// CheckDatabaseURL checks the form of a database URL, the value of what
// (--database-url, PHOENIX_DATABASE_URL, store copy's --to): a postgres://
// or postgresql:// URL, or a libpq key=value string. The error names what
// and never shows the password.
func CheckDatabaseURL(what, dsn string) error {
	hint := fmt.Sprintf("e.g. %s postgres://phoenix@db.internal:5432/phoenix (the password in PGPASSWORD or ~/.pgpass, or in the URL)", what)
	if strings.HasPrefix(what, "PHOENIX_") {
		hint = fmt.Sprintf("e.g. %s=postgres://phoenix@db.internal:5432/phoenix (the password in PGPASSWORD or ~/.pgpass, or in the URL)", what)
	}
	if !strings.Contains(dsn, "://") {
		if !strings.Contains(dsn, "=") {
			return usererr.New(usererr.Usage, "%s %q is neither a postgres:// URL nor key=value settings", what, store.RedactDSN(dsn)).WithHint("%s", hint)
		}
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return usererr.New(usererr.Usage, "%s is not a valid URL", what).WithHint("%s", hint)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return usererr.New(usererr.Usage, "%s: scheme %q is not supported; Phoenix keeps its state in SQLite (the default, no flag) or PostgreSQL", what, u.Scheme).WithHint("%s", hint)
	}
	return nil
}
