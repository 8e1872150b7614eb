package certs

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLockTwoStorages: two Storages on one database (two handles, as two
// servers have) exclude each other; Lock waits for Unlock, and TryLock
// does not wait.
func TestLockTwoStorages(t *testing.T) {
	db1, path := tempDB(t)
	db2 := openDB(t, path)
	keys := newMemKeys()
	a, b := NewStorage(db1, keys), NewStorage(db2, keys)
	ctx := context.Background()
	if err := a.Lock(ctx, "issue_cert_shop.test"); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, "issue_cert_shop.test"); ok || err != nil {
		t.Fatalf("TryLock of a held lock = %v, %v; want false", ok, err)
	}
	if ok, err := b.TryLock(ctx, "issue_cert_other.test"); !ok || err != nil {
		t.Fatalf("TryLock of another name = %v, %v; want true", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- b.Lock(ctx, "issue_cert_shop.test") }()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while the other storage holds the lock", err)
	case <-time.After(3 * pollEvery): // several polls, each of which must find it held
	}
	if err := a.Unlock(ctx, "issue_cert_shop.test"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lock did not get the lock within 10s of Unlock")
	}
	if err := a.Unlock(ctx, "issue_cert_shop.test"); err == nil {
		t.Error("Unlock of a lock this storage does not hold: no error")
	}
	for _, s := range []*Storage{b} {
		for _, n := range []string{"issue_cert_shop.test", "issue_cert_other.test"} {
			if err := s.Unlock(ctx, n); err != nil {
				t.Error(err)
			}
		}
	}
}

// TestLockSameStorage: two callers of one Storage exclude each other too.
func TestLockSameStorage(t *testing.T) {
	db, _ := tempDB(t)
	s := NewStorage(db, newMemKeys())
	ctx := context.Background()
	if err := s.Lock(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.TryLock(ctx, "n"); ok {
		t.Fatal("a second TryLock on the same storage got a held lock")
	}
	cctx, cancel := context.WithTimeout(ctx, 2*pollEvery)
	defer cancel()
	if err := s.Lock(cctx, "n"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with a context that ends: %v, want its deadline", err)
	}
	if err := s.Unlock(ctx, "n"); err != nil {
		t.Fatal(err)
	}
}

// TestLockLease: a lock whose holder stopped refreshing it (a server that
// died) is free once its lease ran out; a live holder keeps it past its
// lease by refreshing, and RenewLockLease extends it.
func TestLockLease(t *testing.T) {
	db, _ := tempDB(t)
	s := NewStorage(db, newMemKeys())
	ctx := context.Background()
	past := time.Now().Add(-time.Second).UnixMilli()
	if _, err := db.ExecContext(ctx, `INSERT INTO certs_locks (name, owner, expires) VALUES ('dead', 'gone', $1)`, past); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.TryLock(ctx, "dead"); !ok || err != nil {
		t.Fatalf("TryLock of an expired lock = %v, %v; want true", ok, err)
	}
	if err := s.RenewLockLease(ctx, "dead", time.Hour); err != nil {
		t.Fatal(err)
	}
	var expires int64
	if err := db.QueryRowContext(ctx, `SELECT expires FROM certs_locks WHERE name = 'dead'`).Scan(&expires); err != nil {
		t.Fatal(err)
	}
	if time.Until(time.UnixMilli(expires)) < 50*time.Minute {
		t.Errorf("RenewLockLease(1h) left the lease at %v", time.UnixMilli(expires))
	}
	if err := s.Unlock(ctx, "dead"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewLockLease(ctx, "dead", time.Hour); err == nil {
		t.Error("RenewLockLease of a lock not held: no error")
	}

	short := NewStorage(db, newMemKeys())
	short.lease = 300 * time.Millisecond
	other := NewStorage(db, newMemKeys())
	if err := short.Lock(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * short.lease)
	for time.Now().Before(deadline) {
		if ok, _ := other.TryLock(ctx, "live"); ok {
			t.Fatal("a refreshed lock was taken over")
		}
		time.Sleep(short.lease / 10)
	}
	if err := short.Unlock(ctx, "live"); err != nil {
		t.Fatal(err)
	}
}
