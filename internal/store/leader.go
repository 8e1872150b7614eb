package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaderLockKey is the session advisory lock the leader of the servers
// sharing a database holds ("phoenixL" in ASCII). Other applications
// sharing the database must not use it.
const leaderLockKey int64 = 0x70686f656e69784c

// LeaderOptions tunes Lead.
type LeaderOptions struct {
	// Retry is how often a follower tries to take the lock (default 2s);
	// a leader that lost it waits 5×Retry before it tries again.
	Retry time.Duration
	// Check is how often the leader checks its lock's connection (default
	// 1s); a check that fails or takes longer than Check ends the
	// leadership. A new leader waits 2×Check after taking the lock before
	// it starts, so the one it replaces has stopped its work by then.
	Check  time.Duration
	Logger *slog.Logger
}

func (o *LeaderOptions) defaults() {
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.Check <= 0 {
		o.Check = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Lead runs work while this process leads the servers sharing the
// database, until ctx ends. On PostgreSQL the leader is the process
// holding a session advisory lock on a connection of its own: work gets a
// context that is cancelled as soon as a check of that connection fails
// (the session, and so the lock, may be gone, and another server may take
// over), and Lead waits for work to return before it tries again. On
// SQLite there is one process per database: work runs once, with ctx.
//
// work must return soon after its context is cancelled. Lead returns
// after work has returned.
func (db *DB) Lead(ctx context.Context, o LeaderOptions, work func(context.Context)) {
	if db.Dialect != Postgres {
		work(ctx)
		return
	}
	o.defaults()
	for ctx.Err() == nil {
		conn, ok := db.takeLead(ctx, o)
		if !ok {
			wait(ctx, o.Retry)
			continue
		}
		o.Logger.Info("leader: this server leads", "database", db.url)
		db.holdLead(ctx, conn, o, work)
		// A leader that lost its connection lets the others take over
		// first: its own connection may be what failed.
		wait(ctx, 5*o.Retry)
	}
}

// takeLead connects and tries the leader lock once; it reports whether
// this process holds it on the returned connection.
func (db *DB) takeLead(ctx context.Context, o LeaderOptions) (*pgx.Conn, bool) {
	conn, err := db.pgxConn(ctx, o.Check+5*time.Second, leaderSession)
	if err != nil {
		o.Logger.Warn("leader: cannot reach the database", "err", err)
		return nil, false
	}
	var ok bool
	qctx, cancel := context.WithTimeout(ctx, o.Check+5*time.Second)
	defer cancel()
	if err := conn.QueryRow(qctx, "SELECT pg_try_advisory_lock($1)", leaderLockKey).Scan(&ok); err != nil || !ok {
		closeConn(conn)
		return nil, false
	}
	return conn, true
}

// holdLead runs work while conn answers, then ends conn's session.
func (db *DB) holdLead(ctx context.Context, conn *pgx.Conn, o LeaderOptions, work func(context.Context)) {
	defer closeConn(conn) // ends the session: the lock goes with it
	if !wait(ctx, 2*o.Check) || !alive(ctx, conn, o.Check) {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); work(wctx) }()
	t := time.NewTicker(o.Check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-t.C:
		}
		if !alive(ctx, conn, o.Check) {
			cancel()
			o.Logger.Error("leader: lost the connection holding the leader lock; singleton work stopped", "database", db.url)
			<-done
			return
		}
	}
}

// alive pings conn within d.
func alive(ctx context.Context, conn *pgx.Conn, d time.Duration) bool {
	pctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return conn.Ping(pctx) == nil
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx)
}

// wait sleeps d or until ctx ends; it reports whether ctx is still live.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// leaderSession makes PostgreSQL notice a leader that vanished from the
// network (no FIN, no RST) in about 11 s rather than the system's TCP
// keepalive time (often 2 h), and so release its lock: keepalive probes
// after 5 s idle, every 2 s, 3 unanswered end the session.
var leaderSession = map[string]string{"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}

// pgxConn opens a connection of its own, outside the pool (a session for
// a lock or LISTEN), within timeout, with params set for its session.
func (db *DB) pgxConn(ctx context.Context, timeout time.Duration, params ...map[string]string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(db.dsn)
	if err != nil {
		return nil, fmt.Errorf("store: database URL %s: %s", db.url, scrub(err, db.dsn))
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "phoenix"
	}
	for _, ps := range params {
		for k, v := range ps {
			cfg.RuntimeParams[k] = v
		}
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %s", db.url, scrub(err, db.dsn, db.password))
	}
	return conn, nil
}

// startLockKey serializes the starts of servers sharing a database
// ("phoenixS" in ASCII): what a first start creates (the vault, the
// signing key, the admin user) is created once.
const startLockKey int64 = 0x70686f656e697853

// SerializeStart waits until no other server sharing the database is
// starting and holds that off until release: one server's first-start
// set-up finishes before the next reads it. waiting is called when it
// must wait. On SQLite it does nothing.
func (db *DB) SerializeStart(ctx context.Context, waiting func()) (release func(), err error) {
	if db.Dialect != Postgres {
		return func() {}, nil
	}
	conn, err := db.pgxConn(ctx, 15*time.Second)
	if err != nil {
		return nil, err
	}
	var free bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", startLockKey).Scan(&free); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("store: wait for other servers' start: %w", err)
	}
	if free {
		return func() { closeConn(conn) }, nil
	}
	if waiting != nil {
		waiting()
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", startLockKey); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("store: wait for other servers' start: %w", err)
	}
	return func() { closeConn(conn) }, nil // the session's end releases the lock
}
