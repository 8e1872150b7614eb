// Package store owns Phoenix's database handle: opening SQLite (the embedded
// default) or PostgreSQL (for several servers sharing one state) with the
// settings Phoenix relies on, applying each domain's versioned migrations,
// and running transactions that serialize writers on both engines.
//
// Domains own their tables and queries; this package knows none of them. SQL
// in domains uses numbered placeholders ($1, $2, ...) and portable types so
// that the same statements run on SQLite and PostgreSQL; migrations are
// written once, in SQLite's type names, and translated for PostgreSQL
// (dialect.go). The contract every engine must satisfy is the suite in
// store/storetest.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/phoenixvc/phoenix/internal/tick"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database.
type DB struct {
	*sql.DB
	Dialect  Dialect
	path     string             // the SQLite file
	url      string             // the PostgreSQL URL, password redacted
	dsn      string             // the PostgreSQL URL as given, for pg_dump
	password string             // its password, wherever libpq's rules found it
	stop     context.CancelFunc // ends the background checkpointer
	done     chan struct{}
	// ephemeral are the tables whose rows Snapshot leaves out (Ephemeral).
	ephemeral []string
}

// Ephemeral marks tables whose rows describe running processes, not data
// (the replicas' heartbeats): a Snapshot keeps their schema and leaves
// their rows out, so a database restored from it does not believe those
// processes still run. Call it before snapshots are taken.
func (db *DB) Ephemeral(tables ...string) { db.ephemeral = append(db.ephemeral, tables...) }

// OpenSQLite opens (creating if needed) the SQLite database at path with WAL
// journaling, a busy timeout, foreign keys on, full fsync on commit, and
// write transactions that take the write lock at BEGIN so concurrent writers
// queue instead of failing.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create folder for %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	// wal_autocheckpoint(0): commits never pay for a checkpoint (an fsync
	// of the whole database file); the checkpointer goroutine does it.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "wal_autocheckpoint(0)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	if err := checkSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	d := &DB{DB: db, Dialect: SQLite, path: path}
	d.startCheckpointer()
	return d, nil
}

// checkpointEvery is how often the WAL is folded into the database file.
const checkpointEvery = time.Second

// startCheckpointer folds the WAL into the database file in the
// background, so a commit's latency is one WAL fsync, never a checkpoint.
// PASSIVE mode waits for nobody: writers keep committing meanwhile.
func (db *DB) startCheckpointer() {
	ctx, cancel := context.WithCancel(context.Background())
	db.stop, db.done = cancel, make(chan struct{})
	go func() {
		defer close(db.done)
		tick.Every(ctx, checkpointEvery, func(ctx context.Context) {
			db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		})
	}()
}

// Close stops the checkpointer, folds the WAL in one last time and closes
// the database.
func (db *DB) Close() error {
	if db.stop != nil {
		db.stop()
		<-db.done
		db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return db.DB.Close()
}

func checkSQLite(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	var fk int
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return err
	}
	if fk != 1 {
		return errors.New("foreign keys are off")
	}
	return nil
}

// Path is the database file, for SQLite; "" otherwise.
func (db *DB) Path() string { return db.path }

// Where names the database for messages: the SQLite file, or the
// PostgreSQL URL with its password redacted.
func (db *DB) Where() string {
	if db.Dialect == Postgres {
		return db.url
	}
	return db.path
}

// Tx runs fn in a transaction: committed when fn returns nil, rolled back
// when it returns an error or panics (the panic is re-raised).
//
// Transactions are serialized on both engines: SQLite takes its write lock
// at BEGIN (_txlock=immediate), PostgreSQL takes one advisory lock per
// database first (pg_advisory_xact_lock). So fn sees every commit made
// before it started and no other transaction commits while it runs.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := db.lockWrites(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("store: rollback: %w", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Querier is what both *sql.DB and *sql.Tx offer; domain queries take it so
// they run inside or outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// ErrNoSnapshot is returned by Snapshot when the engine cannot write a
// copy of itself to a file (PostgreSQL without pg_dump installed).
var ErrNoSnapshot = errors.New("store: cannot snapshot the database to a file")

// Snapshot writes a consistent copy of the whole database to dst, which
// must not exist, while writers keep committing. SQLite's VACUUM INTO
// reads one transaction's view, so the copy holds every commit before it
// and none after; the copy is a plain SQLite file (no WAL). PostgreSQL is
// copied by pg_dump, as one snapshot too, in its custom format (see
// SnapshotFile). Either copy has mode 0600.
func (db *DB) Snapshot(ctx context.Context, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("store: snapshot to %s: file exists", dst)
	}
	if db.Dialect == Postgres {
		return db.pgDump(ctx, dst)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO $1", dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("store: snapshot to %s: %w", dst, err)
	}
	if err := db.dropEphemeral(ctx, dst); err != nil {
		os.Remove(dst)
		return err
	}
	if err := os.Chmod(dst, 0o600); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	return nil
}

// dropEphemeral empties the ephemeral tables of the SQLite copy at path.
func (db *DB) dropEphemeral(ctx context.Context, path string) error {
	if len(db.ephemeral) == 0 {
		return nil
	}
	c, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	defer c.Close()
	for _, t := range db.ephemeral {
		if _, err := c.ExecContext(ctx, `DELETE FROM "`+t+`"`); err != nil {
			return fmt.Errorf("store: snapshot: empty %s: %w", t, err)
		}
	}
	return c.Close()
}
