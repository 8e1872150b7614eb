package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/store/storetest"
)

func openSQLite(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestSQLiteContract(t *testing.T) { storetest.Run(t, openSQLite) }

func TestSQLiteFileIsPrivate(t *testing.T) {
	db := openSQLite(t)
	fi, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestSplitStatements(t *testing.T) {
	got := store.SplitStatementsForTest("-- c\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n y INT\n);\nSELECT 1")
	want := []string{"CREATE TABLE a (x INT);", "CREATE TABLE b (\n y INT\n);", "SELECT 1"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stmt %d = %q, want %q", i, got[i], want[i])
		}
	}
}
