// Package storetest is the contract every store engine satisfies; SQLite and
// PostgreSQL run it unchanged:
//
//	storetest.Run(t, func(t *testing.T) *store.DB { return openPG(t) })
//
// Besides migrations and transactions it holds what domain code relies on
// and engines differ in by default: serialized writers and the meaning of
// column types (parity.go).
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/phoenixvc/phoenix/internal/store"
)

// Opener returns a fresh, empty database for one subtest.
type Opener func(t *testing.T) *store.DB

// Run runs the whole contract against databases made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *store.DB)
	}{
		{"MigrateAppliesInOrderOnce", testMigrate},
		{"MigrateRefusesNewerSchema", testNewerSchema},
		{"MigrateAllRefusesUnknownDomain", testUnknownDomain},
		{"MigrateFailureLeavesNoPartialVersion", testMigrateFailure},
		{"TxCommits", testTxCommit},
		{"TxRollsBackOnError", testTxRollback},
		{"TxRollsBackOnPanic", testTxPanic},
		{"ForeignKeysEnforced", testForeignKeys},
		{"NumberedPlaceholders", testPlaceholders},
		{"ConcurrentWritersAllSucceed", testConcurrentWriters},
		{"CancelledContext", testCancelled},
		{"WritersSerialize", testWritersSerialize},
		{"TypesKeepSQLiteMeaning", testTypes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func migs(files map[string]string) store.Migrations {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return store.Migrations{Domain: "contract", FS: fsys}
}

var base = map[string]string{
	"001_parent.sql": "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n",
	"002_child.sql": "CREATE TABLE child (\n  id INTEGER PRIMARY KEY,\n  parent_id INTEGER NOT NULL REFERENCES parent(id)\n);\n" +
		"-- a comment line\nCREATE INDEX child_parent ON child (parent_id);\n",
}

func mustMigrate(t *testing.T, db *store.DB) {
	t.Helper()
	if err := db.Migrate(ctx, migs(base)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

func testMigrate(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	mustMigrate(t, db) // a second run is a no-op
	v, err := db.SchemaVersion(ctx, "contract")
	if err != nil || v != 2 {
		t.Fatalf("version = %d, %v; want 2", v, err)
	}
	next := map[string]string{"003_more.sql": "ALTER TABLE parent ADD COLUMN note TEXT;\n"}
	for k, val := range base {
		next[k] = val
	}
	if err := db.Migrate(ctx, migs(next)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO parent (id, name, note) VALUES (1, 'a', 'n')`); err != nil {
		t.Fatalf("column from 003 missing: %v", err)
	}
}

func testNewerSchema(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	old := migs(map[string]string{"001_parent.sql": base["001_parent.sql"]})
	if err := db.Migrate(ctx, old); err == nil {
		t.Fatal("an older binary migrated a newer schema")
	}
}

// testUnknownDomain: a newer binary added a domain (its own tables) and
// migrated; this binary, which lacks it, refuses the database before it
// applies anything, even a migration of its own that is pending, so it
// does not run with that domain's tables left unread and stale.
func testUnknownDomain(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	later := store.Migrations{Domain: "later", FS: fstest.MapFS{"001_later.sql": {Data: []byte("CREATE TABLE later_things (id INTEGER PRIMARY KEY);\n")}}}
	if _, err := db.MigrateAll(ctx, migs(base), later); err != nil {
		t.Fatal(err)
	}
	next := map[string]string{"003_more.sql": "ALTER TABLE parent ADD COLUMN note TEXT;\n"}
	for k, val := range base {
		next[k] = val
	}
	_, err := db.MigrateAll(ctx, migs(next))
	if err == nil || !strings.Contains(err.Error(), "later schema version 1, newer than this binary knows") {
		t.Fatalf("a binary without the domain 'later' migrated a database that has it: %v", err)
	}
	if v, _ := db.SchemaVersion(ctx, "contract"); v != 2 {
		t.Fatalf("contract is at version %d after the refusal, want 2 (nothing applied)", v)
	}
	if _, err := db.MigrateAll(ctx, migs(map[string]string{"001_parent.sql": base["001_parent.sql"]}), later); err == nil {
		t.Fatal("MigrateAll migrated a database newer than its sets")
	}
}

func testMigrateFailure(t *testing.T, db *store.DB) {
	bad := map[string]string{"001_ok.sql": "CREATE TABLE ok1 (id INTEGER);\n",
		"002_bad.sql": "CREATE TABLE half (id INTEGER);\nTHIS IS NOT SQL;\n"}
	if err := db.Migrate(ctx, migs(bad)); err == nil {
		t.Fatal("bad migration applied")
	}
	if v, _ := db.SchemaVersion(ctx, "contract"); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO half (id) VALUES (1)`); err == nil {
		t.Fatal("a failed migration left a table behind")
	}
}

func testTxCommit(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES ($1, $2)`, 1, "a")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 1 {
		t.Fatalf("rows = %d", n)
	}
}

func testTxRollback(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	sentinel := errors.New("stop")
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (1, 'a')`); err != nil {
			return err
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v", err)
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("rows = %d after rollback", n)
	}
}

func testTxPanic(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	func() {
		defer func() { recover() }()
		db.Tx(ctx, func(tx *sql.Tx) error {
			tx.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES (1, 'a')`)
			panic("boom")
		})
	}()
	if n := count(t, db); n != 0 {
		t.Fatalf("rows = %d after panic", n)
	}
}

func testForeignKeys(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	if _, err := db.ExecContext(ctx, `INSERT INTO child (id, parent_id) VALUES (1, 42)`); err == nil {
		t.Fatal("a child row without parent was accepted")
	}
}

func testPlaceholders(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	if _, err := db.ExecContext(ctx, `INSERT INTO parent (id, name) VALUES ($2, $1)`, "b", 7); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := db.QueryRowContext(ctx, `SELECT name FROM parent WHERE id = $1`, 7).Scan(&name); err != nil || name != "b" {
		t.Fatalf("name = %q, %v", name, err)
	}
}

func testConcurrentWriters(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errs <- db.Tx(ctx, func(tx *sql.Tx) error {
					var n int
					if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM parent`).Scan(&n); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO parent (name) VALUES ($1)`, fmt.Sprintf("w%d-%d-%d", w, i, n))
					return err
				})
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write failed: %v", err)
		}
	}
	if n := count(t, db); n != writers*each {
		t.Fatalf("rows = %d, want %d", n, writers*each)
	}
}

func testCancelled(t *testing.T, db *store.DB) {
	mustMigrate(t, db)
	c, cancel := context.WithCancel(ctx)
	cancel()
	err := db.Tx(c, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(c, `INSERT INTO parent (id, name) VALUES (1, 'a')`)
		return err
	})
	if err == nil {
		t.Fatal("a cancelled context committed")
	}
	if n := count(t, db); n != 0 {
		t.Fatalf("rows = %d", n)
	}
}

func count(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM parent`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
