package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify tells every server sharing the database (those in Listen on
// channel) that something changed; payload says what (a short text,
// never a secret). On SQLite it does nothing: the one process that uses
// the database knows already. A notification is a hint: listeners must
// also poll, since a notification sent while one was not connected is
// lost to it.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.Dialect != Postgres {
		return nil
	}
	if _, err := db.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

// Notification is one received notification. Channel "" means Listen
// (re)connected: notifications may have been missed, look at everything.
type Notification struct {
	Channel, Payload string
}

// Listen calls fn for every notification on channels until ctx ends,
// one at a time, on a connection of its own that it re-opens when it
// breaks (after each (re)connection it calls fn with an empty
// Notification). On SQLite it blocks until ctx ends.
func (db *DB) Listen(ctx context.Context, channels []string, log *slog.Logger, fn func(Notification)) {
	if db.Dialect != Postgres {
		<-ctx.Done()
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for ctx.Err() == nil {
		if err := db.listenOnce(ctx, channels, fn); err != nil && ctx.Err() == nil {
			log.Warn("store: listening for changes from other servers; reconnecting", "err", err)
			wait(ctx, time.Second)
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, channels []string, fn func(Notification)) error {
	conn, err := db.pgxConn(ctx, 15*time.Second)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("store: listen %s: %w", ch, err)
		}
	}
	fn(Notification{})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(Notification{Channel: n.Channel, Payload: n.Payload})
	}
}
