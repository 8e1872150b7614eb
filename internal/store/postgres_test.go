package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/store/storetest"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

func openPostgres(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.OpenPostgres(context.Background(), testkit.Postgres(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPostgresContract(t *testing.T) { storetest.Run(t, openPostgres) }

// TestPostgresErrorsHideThePassword opens URLs whose password must not
// show in the error: a server that is not there, and a bad URL.
func TestPostgresErrorsHideThePassword(t *testing.T) {
	const pw = "s3cr3t-Passw0rd"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://phoenix:" + pw + "@127.0.0.1:1/phoenix?sslmode=disable",
		"postgres://phoenix@127.0.0.1:1/phoenix?sslmode=disable&password=" + pw,
		"host=127.0.0.1 port=1 user=phoenix password=" + pw + " sslmode=disable",
		"postgres://phoenix:" + pw + "@127.0.0.1:1/phoenix?sslmode=bogus",
		"postgres://phoenix:" + pw + "@127.0.0.1:notaport/phoenix",
	} {
		_, err := store.OpenPostgres(ctx, dsn)
		if err == nil {
			t.Fatalf("%s: opened", store.RedactDSN(dsn))
		}
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("the error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("the error does not name the server: %v", err)
		}
	}
}

// TestPostgresWrongPasswordHidden connects to a real server with a
// password that is refused.
func TestPostgresWrongPasswordHidden(t *testing.T) {
	srv := testkit.Postgres(t)
	admin, err := store.OpenPostgres(context.Background(), srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// A role that must log in with a password; trust auth would still let
	// it in, so the role is refused outright instead (NOLOGIN).
	if _, err := admin.ExecContext(context.Background(), `CREATE ROLE nologin_user NOLOGIN PASSWORD 'x'`); err != nil {
		t.Fatal(err)
	}
	const pw = "w7ong-Pa55"
	dsn := strings.Replace(srv.DSN("postgres"), "postgres@", "nologin_user:"+pw+"@", 1)
	_, err = store.OpenPostgres(context.Background(), dsn)
	if err == nil || strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "xxxxx") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:pw@h:5432/db?sslmode=disable": "postgres://u:xxxxx@h:5432/db?sslmode=disable",
		"postgres://u@h/db":                         "postgres://u@h/db",
		"postgres://h/db?password=pw":               "postgres://h/db?password=xxxxx",
		"host=h user=u password=pw dbname=db":       "host=h user=u password=xxxxx dbname=db",
		"postgres://u:p%zz@h/db":                    "(unparsable database URL)",
	} {
		if got := store.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPostgresWriteTransactionsSerialize checks the guarantee domains rely
// on: a read-then-write transaction (the audit chain's append, say) never
// interleaves with another, so no two see the same maximum.
func TestPostgresWriteTransactionsSerialize(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE chain (seq BIGINT PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				errs <- db.Tx(ctx, func(tx *sql.Tx) error {
					var max int
					if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM chain`).Scan(&max); err != nil {
						return err
					}
					_, err := tx.ExecContext(ctx, `INSERT INTO chain (seq) VALUES ($1)`, max+1)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var n, max int
	db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(seq) FROM chain`).Scan(&n, &max)
	if n != 100 || max != 100 {
		t.Fatalf("rows %d, max %d: want 100, 100", n, max)
	}
}

// TestPostgresLoneWriteWaitsForTx: a write outside a transaction waits
// for the running write transaction, as on SQLite.
func TestPostgresLoneWriteWaitsForTx(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x BIGINT)`); err != nil {
		t.Fatal(err)
	}
	inTx, release := make(chan struct{}), make(chan struct{})
	txDone := make(chan error, 1)
	go func() {
		txDone <- db.Tx(ctx, func(tx *sql.Tx) error {
			close(inTx)
			<-release
			_, err := tx.ExecContext(ctx, `INSERT INTO t (x) VALUES (1)`)
			return err
		})
	}()
	<-inTx
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := db.ExecContext(short, `INSERT INTO t (x) VALUES (2)`)
	if !errors.Is(err, context.DeadlineExceeded) && (err == nil || !strings.Contains(err.Error(), "cancel")) {
		t.Fatalf("a lone write ran beside a write transaction: %v", err)
	}
	close(release)
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (x) VALUES (2)`); err != nil {
		t.Fatal(err)
	}
}

// TestPostgresTypes checks the translated column types hold what SQLite's
// hold: 64-bit integers, bools as 0/1, 8-byte reals, bytes, and text that
// sorts byte by byte.
func TestPostgresTypes(t *testing.T) {
	for name, open := range map[string]storetest.Opener{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			m := store.Migrations{Domain: "types", FS: fstest.MapFS{"001_t.sql": {Data: []byte(
				"CREATE TABLE t (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  big INTEGER NOT NULL,\n  flag INTEGER NOT NULL DEFAULT 0,\n" +
					"  r REAL NOT NULL,\n  b BLOB NOT NULL,\n  s TEXT NOT NULL\n);\n")}}}
			if err := db.Migrate(ctx, m); err != nil {
				t.Fatal(err)
			}
			for i, s := range []string{"b", "B", "a", "é", "_"} {
				if _, err := db.ExecContext(ctx, `INSERT INTO t (big, flag, r, b, s) VALUES ($1, $2, $3, $4, $5)`,
					int64(1)<<40+int64(i), i%2 == 0, 0.1, []byte{0, 0xff}, s); err != nil {
					t.Fatal(err)
				}
			}
			rows, err := db.QueryContext(ctx, `SELECT id, big, flag, r, b, s FROM t ORDER BY s`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var order []string
			for rows.Next() {
				var id, big int64
				var flag bool
				var r float64
				var b []byte
				var s string
				if err := rows.Scan(&id, &big, &flag, &r, &b, &s); err != nil {
					t.Fatal(err)
				}
				if big != int64(1)<<40+id-1 || flag != ((id-1)%2 == 0) || r != 0.1 || string(b) != "\x00\xff" {
					t.Fatalf("row %d: big %d flag %v r %v b %x", id, big, flag, r, b)
				}
				order = append(order, s)
			}
			if got := strings.Join(order, " "); got != "B _ a b é" {
				t.Fatalf("order = %q, want byte order", got)
			}
		})
	}
}
