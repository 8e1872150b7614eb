package certs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/phoenixvc/phoenix/internal/tick"
)

// heldLock is a lock this Storage holds: its owner token and the refresher
// that keeps its lease alive until Unlock.
type heldLock struct {
	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

// pollEvery is how often Lock looks again at a lock someone else holds.
const pollEvery = 250 * time.Millisecond

// Lock implements certmagic.Locker: it blocks until name is free (or its
// holder's lease ran out: a server that died), then holds it until Unlock,
// refreshing the lease meanwhile. Two Storages on one database exclude
// each other, and so do two callers of one Storage.
func (s *Storage) Lock(ctx context.Context, name string) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		ok, err := s.TryLock(ctx, name)
		if err != nil && ctx.Err() != nil {
			// The context ended while the attempt's transaction ran:
			// database/sql rolls it back and says only that it was
			// ("transaction has already been committed or rolled back").
			return fmt.Errorf("certs: lock %s: %w", name, ctx.Err())
		}
		if ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("certs: lock %s: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// TryLock implements certmagic.TryLocker: one attempt at Lock.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	owner := token()
	var got bool
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		now := s.millis()
		var holder string
		var expires int64
		err := tx.QueryRowContext(ctx, `SELECT owner, expires FROM certs_locks WHERE name = $1`, name).Scan(&holder, &expires)
		if err == nil && expires > now {
			return nil // held
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO certs_locks (name, owner, expires) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET owner = $2, expires = $3`, name, owner, now+s.lease.Milliseconds())
		got = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("certs: lock %s: %w", name, err)
	}
	if got {
		s.keepAlive(name, owner)
	}
	return got, nil
}

// keepAlive records the lock as held and refreshes its lease every third
// of it until Unlock.
func (s *Storage) keepAlive(name, owner string) {
	ctx, stop := context.WithCancel(context.Background())
	h := &heldLock{owner: owner, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	if old := s.held[name]; old != nil {
		old.stop() // its lease ran out and this caller took the lock over
	}
	s.held[name] = h
	s.mu.Unlock()
	go func() {
		defer close(h.done)
		tick.Every(ctx, s.lease/3, func(ctx context.Context) { _ = s.renew(ctx, name, owner, s.lease) })
	}()
}

// renew moves the lease of a lock owner holds to now+d.
func (s *Storage) renew(ctx context.Context, name, owner string, d time.Duration) error {
	res, err := s.db.ExecContext(ctx, `UPDATE certs_locks SET expires = $1 WHERE name = $2 AND owner = $3`,
		s.millis()+d.Milliseconds(), name, owner)
	if err != nil {
		return fmt.Errorf("certs: renew lock %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("certs: renew lock %s: it is no longer held by this server (its lease ran out)", name)
	}
	return nil
}

// RenewLockLease implements certmagic.LockLeaseRenewer.
func (s *Storage) RenewLockLease(ctx context.Context, name string, d time.Duration) error {
	s.mu.Lock()
	h := s.held[name]
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("certs: renew lock %s: not held by this server", name)
	}
	return s.renew(ctx, name, h.owner, d)
}

// Unlock implements certmagic.Locker.
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return fmt.Errorf("certs: unlock %s: not held by this server", name)
	}
	h.stop()
	<-h.done
	res, err := s.db.ExecContext(ctx, `DELETE FROM certs_locks WHERE name = $1 AND owner = $2`, name, h.owner)
	if err != nil {
		return fmt.Errorf("certs: unlock %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("certs: unlock %s: its lease ran out and another server may hold it now", name)
	}
	return nil
}

// token returns a random lock owner token.
func token() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// purgeStaleLocks deletes the locks whose lease ran out a lease ago or
// more: free already (TryLock takes them over), left by a server that
// stopped without Unlock. A lock taken meanwhile has a fresh lease and
// stays.
func (s *Storage) purgeStaleLocks(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM certs_locks WHERE expires < $1`, s.millis()-s.lease.Milliseconds())
	if err != nil {
		return fmt.Errorf("certs: remove stale locks: %w", err)
	}
	return nil
}
