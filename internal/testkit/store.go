package testkit

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/store"
)

// DatabaseEnv picks the engine domain tests run on: unset or "sqlite" for
// SQLite files, "postgres" for databases on the test binary's throwaway
// PostgreSQL server (see Postgres).
const DatabaseEnv = "PHOENIX_TEST_DATABASE"

var (
	pgByPathMu sync.Mutex
	pgByPath   = map[string]string{} // SQLite path -> the PostgreSQL URL standing in for it
)

// OpenStore opens the test database that stands for the SQLite file at
// path: that file, or with PHOENIX_TEST_DATABASE=postgres a PostgreSQL
// database made for it on first use, so reopening the same path reopens
// the same data. The handle is closed when t ends (closing it earlier is
// fine). Migrations are the caller's.
func OpenStore(t testing.TB, path string) *store.DB {
	t.Helper()
	var db *store.DB
	var err error
	switch engine := os.Getenv(DatabaseEnv); engine {
	case "", "sqlite":
		db, err = store.OpenSQLite(context.Background(), path)
	case "postgres":
		db, err = store.OpenPostgres(context.Background(), postgresFor(t, path))
	default:
		t.Fatalf("%s=%q: want sqlite or postgres", DatabaseEnv, engine)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func postgresFor(t testing.TB, path string) string {
	pgByPathMu.Lock()
	defer pgByPathMu.Unlock()
	if dsn, ok := pgByPath[path]; ok {
		return dsn
	}
	dsn := Postgres(t).NewDatabase(t)
	pgByPath[path] = dsn
	return dsn
}
