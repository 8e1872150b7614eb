package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
)

// TestStartRefusesAStoreANewerServerAddedADomainTo: a newer Phoenix that
// added a domain (its own tables) migrated the data dir; this binary,
// which lacks the domain, refuses to start on it and leaves state.db as
// it was. It used to start, as it checked only the domains it knows, and
// ran with the newer binary's tables left unread and going stale.
func TestStartRefusesAStoreANewerServerAddedADomainTo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	if err := startOpts(t, Options{DataDir: dir}).Stop(ctx); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.db")
	db, err := store.OpenSQLite(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations (domain, version, name, applied_at)
		VALUES ('later', 1, '001_init.sql', '2027-01-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	sum := func() [32]byte {
		b, err := os.ReadFile(state)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	a, err := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(ctx)
	a.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "later schema version 1, newer than this binary knows") {
		t.Fatalf("start on a store with a domain this binary lacks: %v", err)
	}
	if sum() != before {
		t.Fatal("the refused start changed state.db")
	}
}

// TestStartLogsWhatItMigrated: a start that migrates the state store (an
// upgrade) says in the log, per domain, from which schema version to
// which; a new store is one line.
func TestStartLogsWhatItMigrated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	startLogged := func() string {
		t.Helper()
		var log bytes.Buffer
		a := startOpts(t, Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		return log.String()
	}
	if log := startLogged(); !strings.Contains(log, `msg="created the state store"`) || strings.Contains(log, "migrated the state store") {
		t.Fatalf("the first start's log:\n%s", log)
	}
	// A store as the binary before this one left it: every domain at its
	// newest but deploy one short (re-running the newest migration on
	// this store instead would need it to be idempotent, which an ADD
	// COLUMN in SQLite cannot be).
	dir = t.TempDir()
	schema := newestSchema(t)
	v := schema["deploy"]
	schema["deploy"] = v - 1
	db, err := store.OpenSQLite(ctx, filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(db.Migrate(ctx, migrationsAsOf(t, schema)...), db.Close()); err != nil {
		t.Fatal(err)
	}
	log := startLogged()
	want := fmt.Sprintf(`msg="migrated the state store" domain=deploy from=%d to=%d`, v-1, v)
	if !strings.Contains(log, want) || strings.Count(log, "the state store") != 1 {
		t.Fatalf("the upgrade's log lacks %s, or says more:\n%s", want, log)
	}
	if log := startLogged(); strings.Contains(log, "the state store") {
		t.Fatalf("a start that migrated nothing logged:\n%s", log)
	}
}
