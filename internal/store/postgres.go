package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool settings of a PostgreSQL handle. Write transactions are serialized
// (see Tx), so more connections only help concurrent readers.
const (
	pgMaxOpen     = 16
	pgMaxIdle     = 4
	pgMaxLifetime = 30 * time.Minute
	pgMaxIdleTime = 5 * time.Minute
	pgPingTimeout = 15 * time.Second
)

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres://
// URL or a "key=value" connection string, as libpq reads them; PG*
// environment variables fill what it leaves out) and checks it answers.
// Errors name the server with the password replaced by "xxxxx"; the
// password itself never appears in an error.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	where := RedactDSN(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: database URL %s: %s", where, scrub(err, dsn))
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "phoenix"
	}
	secret := cfg.Password
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(pgMaxOpen)
	db.SetMaxIdleConns(pgMaxIdle)
	db.SetConnMaxLifetime(pgMaxLifetime)
	db.SetConnMaxIdleTime(pgMaxIdleTime)
	pctx, cancel := context.WithTimeout(ctx, pgPingTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to PostgreSQL at %s: %s", where, scrub(err, dsn, secret))
	}
	return &DB{DB: db, Dialect: Postgres, url: where, dsn: dsn, password: secret}, nil
}

// RedactDSN returns dsn with its password replaced by "xxxxx", for logs
// and errors. A string that is not a URL is redacted key=value style.
func RedactDSN(dsn string) string { return rewritePassword(dsn, "xxxxx") }

// withoutPassword returns dsn with its password removed, for programs
// (pg_dump) that take the password from the environment instead.
func withoutPassword(dsn string) string { return rewritePassword(dsn, "") }

// rewritePassword replaces the password of dsn with to ("" removes it).
func rewritePassword(dsn, to string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if u.Opaque != "" || (u.User == nil && strings.Contains(dsn, "@")) {
			return "(unparsable database URL)" // whatever holds a password is not where a URL keeps it
		}
		if _, has := u.User.Password(); has {
			u.User = url.User(u.User.Username())
			if to != "" {
				u.User = url.UserPassword(u.User.Username(), to)
			}
		}
		q := u.Query()
		if q.Has("password") {
			q.Del("password")
			if to != "" {
				q.Set("password", to)
			}
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if strings.Contains(dsn, "://") {
		return "(unparsable database URL)"
	}
	var out []string
	for _, f := range keyValues(dsn) {
		if strings.EqualFold(f.key, "password") {
			if to == "" {
				continue
			}
			f.value = to
		}
		out = append(out, f.key+"="+f.value)
	}
	return strings.Join(out, " ")
}

type keyValue struct{ key, value string }

// keyValues splits a libpq "key=value" connection string; a value is a
// word or a single-quoted string with backslash escapes, kept as written.
func keyValues(s string) []keyValue {
	var out []keyValue
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return out
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return append(out, keyValue{key: strings.TrimSpace(s)})
		}
		key := strings.TrimSpace(s[:eq])
		s = strings.TrimLeft(s[eq+1:], " \t\r\n")
		end := strings.IndexAny(s, " \t\r\n")
		if strings.HasPrefix(s, "'") {
			end = len(s)
			for i := 1; i < len(s); i++ {
				if s[i] == '\\' {
					i++
				} else if s[i] == '\'' {
					end = i + 1
					break
				}
			}
		}
		if end < 0 {
			end = len(s)
		}
		out = append(out, keyValue{key, s[:end]})
		s = s[end:]
	}
}

// scrub returns err's message with every secret blanked: the password
// parsed from the DSN, and the DSN's own password fields.
func scrub(err error, dsn string, secrets ...string) string {
	msg := err.Error()
	for _, s := range append(secrets, DSNSecrets(dsn)...) {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

// DSNSecrets are the forms dsn's password may be written in, in dsn
// itself or in text made from it: key=value password fields as written
// and unquoted, a URL's password and its escaped forms.
func DSNSecrets(dsn string) []string {
	var secrets []string
	for _, f := range keyValues(dsn) {
		if strings.EqualFold(f.key, "password") {
			secrets = append(secrets, f.value, strings.Trim(f.value, "'"))
		}
	}
	if u, perr := url.Parse(dsn); perr == nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.PathEscape(p), url.QueryEscape(p), rawPassword(dsn))
		}
		if p := u.Query().Get("password"); p != "" {
			secrets = append(secrets, p, url.QueryEscape(p))
		}
	}
	return slices.DeleteFunc(secrets, func(s string) bool { return s == "" })
}

// rawPassword is the password of a URL dsn as written, escapes and all:
// between "scheme://user:" and the authority's last "@".
func rawPassword(dsn string) string {
	_, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// writeLockKey is the pg_advisory_xact_lock key every write transaction
// takes first ("phoenix" in ASCII): one writer at a time per database, as
// SQLite's BEGIN IMMEDIATE gives. Other applications sharing the database
// must not use this key.
const writeLockKey int64 = 0x70686f656e6978

// lockWrites takes the database-wide write lock in tx; it is released when
// tx commits or rolls back.
func (db *DB) lockWrites(ctx context.Context, tx *sql.Tx) error {
	if db.Dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", writeLockKey); err != nil {
		return fmt.Errorf("store: take the write lock: %w", err)
	}
	return nil
}

// ExecContext runs a statement outside a transaction. On PostgreSQL it
// runs in a transaction holding the write lock, so a lone write waits for
// the current write transaction as it does on SQLite.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.Dialect != Postgres {
		return db.DB.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// pgConnector hands out connections that store Go bools as 0 and 1, as
// SQLite does: domain tables keep flags in INTEGER columns, which are
// BIGINT on PostgreSQL, and pgx would refuse a bool for them.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, errors.New("store: the pgx driver returned an unexpected connection type")
	}
	return pgConn{sc}, nil
}

type pgConn struct{ *stdlib.Conn }

// CheckNamedValue turns a bool argument into 1 or 0.
func (c pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return c.Conn.CheckNamedValue(nv)
}

// ownerLockKey is the session-level advisory lock a server holds on its
// database for as long as it runs ("phoenix1" in ASCII).
const ownerLockKey int64 = 0x70686f656e697831

// ErrClaimed is returned by Claim when another process holds the database.
var ErrClaimed = errors.New("store: another Phoenix server uses this database")

// Claim makes this process the database's one server, as the data dir's
// lock file does for SQLite: on PostgreSQL it holds a session advisory
// lock on a connection of its own until release is called, and fails
// with ErrClaimed while another holds it (or replicas share it,
// ClaimShared). The lock lives as long as its session: when the session
// ends (PostgreSQL restarted, the connection cut, the session
// terminated) the claim takes it again on a new connection (keepClaim),
// so a server started later is still refused; log hears of a claim lost
// that cannot be taken again. On SQLite it does nothing (the file is in
// the locked data dir).
func (db *DB) Claim(ctx context.Context, log *slog.Logger) (release func() error, err error) {
	return db.claim(ctx, log, "pg_try_advisory_lock", "pg_advisory_unlock")
}

// ClaimShared makes this process one of the replicas sharing the
// database: it fails with ErrClaimed while a server holds it alone
// (Claim), and keeps such a server out until release, as Claim does.
func (db *DB) ClaimShared(ctx context.Context, log *slog.Logger) (release func() error, err error) {
	return db.claim(ctx, log, "pg_try_advisory_lock_shared", "pg_advisory_unlock_shared")
}

// ClaimedShared reports whether those holding the database's claim are
// replicas (ClaimShared) rather than one server alone (Claim): false when
// nobody holds it, and on SQLite. A bigint advisory lock shows in pg_locks
// as classid (its high 32 bits) and objid (its low ones), objsubid 1.
func (db *DB) ClaimedShared(ctx context.Context) (bool, error) {
	if db.Dialect != Postgres {
		return false, nil
	}
	var shared bool
	err := db.QueryRowContext(ctx, `SELECT COALESCE(bool_or(mode = 'ShareLock'), false) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1`,
		ownerLockKey).Scan(&shared)
	return shared, err
}

// claimCheck is how often a claim's connection is checked (keepClaim).
var claimCheck = 2 * time.Second

// pingTimeout is the least time a claim's connection has to answer its
// check before it is taken for lost.
const pingTimeout = time.Second

func (db *DB) claim(ctx context.Context, log *slog.Logger, lockFn, unlockFn string) (release func() error, err error) {
	if db.Dialect != Postgres {
		return func() error { return nil }, nil
	}
	conn, err := db.claimOn(ctx, lockFn)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	check := claimCheck
	go func() { defer close(done); db.keepClaim(kctx, conn, log, lockFn, unlockFn, check) }()
	return func() error { stop(); <-done; return nil }, nil
}

// claimOn opens a connection of its own and takes the claim's lock on it
// with lockFn; ErrClaimed when another server's claim excludes it.
func (db *DB) claimOn(ctx context.Context, lockFn string) (*pgx.Conn, error) {
	conn, err := db.pgxConn(ctx, 15*time.Second, leaderSession)
	if err != nil {
		return nil, fmt.Errorf("store: claim %s: %w", db.url, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT "+lockFn+"($1)", ownerLockKey).Scan(&ok); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("store: claim %s: %w", db.url, err)
	}
	if !ok {
		closeConn(conn)
		return nil, ErrClaimed
	}
	return conn, nil
}

// keepClaim holds the claim's lock until ctx ends, then unlocks it and
// ends its session. Every check it checks the connection; when
// the session is gone, so is the lock, and a server started meanwhile
// would be let in beside this one (two servers running the singleton
// work, or one beside replicas): it takes the lock again on a new
// connection, and logs when another server's claim keeps it out.
func (db *DB) keepClaim(ctx context.Context, conn *pgx.Conn, log *slog.Logger, lockFn, unlockFn string, check time.Duration) {
	defer func() {
		if conn == nil {
			return
		}
		// Unlock first: the session's end releases the lock too, but
		// only once PostgreSQL has noticed it, after release returned.
		uctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Exec(uctx, "SELECT "+unlockFn+"($1)", ownerLockKey)
		cancel()
		closeConn(conn)
	}()
	failing := "" // what the last failed attempt met, logged once
	for wait(ctx, check) {
		// The check is not cut short by a release (ctx): pgx closes a
		// connection whose query is cancelled, and the claim would then
		// end only when PostgreSQL noticed the session gone, after
		// release returned, so that a server claiming right then was
		// refused. A release waits for the ping (well under a second)
		// and the deferred unlock ends the claim at once. The ping may
		// take up to a second however often it is made: a live
		// connection that answers late is not dropped, for the same
		// reason.
		if conn != nil && alive(context.Background(), conn, max(check, pingTimeout)) {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if conn != nil {
			closeConn(conn)
			conn = nil
			log.Warn("store: the connection holding this server's claim on the database ended; claiming it again", "database", db.url)
		}
		c, err := db.claimOn(ctx, lockFn)
		switch {
		case err == nil:
			conn = c
			if failing != "" {
				log.Info("store: claimed the database again", "database", db.url)
			}
			failing = ""
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrClaimed):
			if failing != "claimed" {
				log.Error("store: another Phoenix server claimed the database while this one's claim was lost: both may now run on it; stop one", "database", db.url)
			}
			failing = "claimed"
		default:
			if failing != "unreachable" {
				log.Warn("store: cannot claim the database again yet; trying on", "database", db.url, "err", err)
			}
			failing = "unreachable"
		}
	}
}
