package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

// opener returns a function opening the database at dsn again, closed
// when t ends: several servers' handles on one database.
func opener(t *testing.T, dsn string) func() *store.DB {
	return func() *store.DB {
		db, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
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
		"host=127.0.0.1 port=1 user=phoenix password='" + pw + "' sslmode=bogus",
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
	t.Cleanup(func() { admin.Close() })
	// A role that must log in with a password; trust auth would still let
	// it in, so the role is refused outright instead (NOLOGIN).
	// Roles belong to the whole server: a name of its own per run, dropped
	// afterwards, so a second run (-count=2) or a shared server finds none.
	role := fmt.Sprintf("nologin_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(context.Background(), `CREATE ROLE `+role+` NOLOGIN PASSWORD 'x'`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), `DROP ROLE IF EXISTS `+role) })
	const pw = "w7ong-Pa55"
	dsn := strings.Replace(srv.DSN("postgres"), "postgres@", role+":"+pw+"@", 1)
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
		`host=h password='a b\' c' dbname=db`:       "host=h password=xxxxx dbname=db",
		"host = h password = pw":                    "host=h password=xxxxx",
	} {
		if got := store.RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
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

// TestPostgresSnapshotIsAPgDump: Snapshot on PostgreSQL writes a pg_dump
// archive (0600) that pg_restore lists and restores into an empty
// database with every row; a damaged archive fails CheckDump.
func TestPostgresSnapshotIsAPgDump(t *testing.T) {
	if store.PgDump() == "" {
		t.Skip("pg_dump is not installed")
	}
	db := openPostgres(t)
	ctx := context.Background()
	if db.SnapshotFile() != "state.pgdump" {
		t.Fatalf("snapshot file %q", db.SnapshotFile())
	}
	if err := db.Migrate(ctx, store.Migrations{Domain: "d", FS: fstest.MapFS{"001_t.sql": {Data: []byte(
		"CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL);\nCREATE TABLE beats (who TEXT PRIMARY KEY);\n")}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, []byte{byte(i), 0xff}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO beats (who) VALUES ('replica-1')`); err != nil {
		t.Fatal(err)
	}
	db.Ephemeral("beats")
	dst := filepath.Join(t.TempDir(), "state.pgdump")
	if err := db.Snapshot(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if err := db.Snapshot(ctx, dst); err == nil {
		t.Fatal("a snapshot over an existing file succeeded")
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dump: %v %v", fi, err)
	}
	if err := store.CheckDump(ctx, dst); err != nil {
		t.Fatal(err)
	}
	target := testkit.Postgres(t).NewDatabase(t)
	restore := filepath.Join(filepath.Dir(store.PgDump()), "pg_restore")
	if out, err := exec.Command(restore, "--dbname="+target, dst).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	back, err := store.OpenPostgres(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	var n int
	if err := back.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 50 {
		t.Fatalf("restored %d rows, %v", n, err)
	}
	if err := back.QueryRowContext(ctx, `SELECT COUNT(*) FROM beats`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("an ephemeral table restored %d rows, %v", n, err)
	}
	if v, err := back.SchemaVersion(ctx, "d"); err != nil || v != 1 {
		t.Fatalf("restored schema version %d, %v", v, err)
	}
	b, _ := os.ReadFile(dst)
	damaged := filepath.Join(t.TempDir(), "damaged.pgdump")
	os.WriteFile(damaged, b[:len(b)/3], 0o600)
	if err := store.CheckDump(ctx, damaged); err == nil {
		t.Fatal("a truncated dump passed CheckDump")
	}
}

// TestPostgresClaim: one holder at a time; release lets the next claim,
// and so does closing the holder's database.
func TestPostgresClaim(t *testing.T) {
	ctx := context.Background()
	dsn := testkit.Postgres(t).NewDatabase(t)
	open := opener(t, dsn)
	a, b := open(), open()
	release, err := a.Claim(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Claim(ctx, nil); !errors.Is(err, store.ErrClaimed) {
		t.Fatalf("second claim: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	again, err := b.Claim(ctx, nil)
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	b.Close()
	again()
	if _, err := open().Claim(ctx, nil); err != nil {
		t.Fatalf("claim after the holder closed: %v", err)
	}
}

// TestPostgresClaimOutlivesItsSession: a claim whose session ends
// (PostgreSQL restarted, the connection cut; here pg_terminate_backend)
// is taken again on a new connection, so a server started after it still
// finds the database claimed, by a lone server or by replicas.
func TestPostgresClaimOutlivesItsSession(t *testing.T) {
	store.SetClaimCheckForTest(t, 20*time.Millisecond)
	ctx := context.Background()
	dsn := testkit.Postgres(t).NewDatabase(t)
	open := opener(t, dsn)
	admin, other := open(), open()
	const key = store.OwnerLockKeyForTest
	holders := func() []int { // the sessions holding a claim's lock
		rows, err := admin.QueryContext(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND classid::bigint = $1 AND objid::bigint = $2
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, key>>32, key&0xffffffff)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var pids []int
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				t.Fatal(err)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	for _, shared := range []bool{false, true} {
		holder := open()
		claim, kind := holder.Claim, "a lone server's"
		if shared {
			claim, kind = holder.ClaimShared, "the replicas'"
		}
		release, err := claim(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		was := holders()
		if len(was) != 1 {
			t.Fatalf("sessions %v hold %s claim, want one", was, kind)
		}
		if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, was[0]); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for { // polling for the lock held by another session than the one ended
			if now := holders(); len(now) == 1 && now[0] != was[0] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s claim was never taken again after its session ended", kind)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := other.Claim(ctx, nil); !errors.Is(err, store.ErrClaimed) {
			t.Fatalf("a server started after %s claim lost its session: %v, want ErrClaimed", kind, err)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		again, err := other.Claim(ctx, nil)
		if err != nil {
			t.Fatalf("claim after the release: %v", err)
		}
		again()
	}
}

// TestPostgresClaimShared: replicas share a database with each other but
// not with a server that claims it alone, either way round.
func TestPostgresClaimShared(t *testing.T) {
	ctx := context.Background()
	dsn := testkit.Postgres(t).NewDatabase(t)
	var dbs []*store.DB
	for range 3 {
		db, err := store.OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	r1, err := dbs[0].ClaimShared(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := dbs[1].ClaimShared(ctx, nil)
	if err != nil {
		t.Fatalf("second replica: %v", err)
	}
	if _, err := dbs[2].Claim(ctx, nil); !errors.Is(err, store.ErrClaimed) {
		t.Fatalf("a lone server beside replicas: %v", err)
	}
	r1()
	r2()
	alone, err := dbs[2].Claim(ctx, nil)
	if err != nil {
		t.Fatalf("a lone server after the replicas: %v", err)
	}
	if _, err := dbs[0].ClaimShared(ctx, nil); !errors.Is(err, store.ErrClaimed) {
		t.Fatalf("a replica beside a lone server: %v", err)
	}
	alone()
}

// TestPostgresSnapshotWithoutPgDump: with no pg_dump anywhere, a snapshot
// fails with ErrNoSnapshot saying what to install, and leaves no file.
func TestPostgresSnapshotWithoutPgDump(t *testing.T) {
	db := openPostgres(t)
	t.Setenv("PATH", t.TempDir())
	store.SetPgDumpGlobForTest(filepath.Join(t.TempDir(), "*", "pg_dump"))
	t.Cleanup(func() { store.SetPgDumpGlobForTest("/usr/lib/postgresql/*/bin/pg_dump") })
	dst := filepath.Join(t.TempDir(), "state.pgdump")
	err := db.Snapshot(context.Background(), dst)
	if !errors.Is(err, store.ErrNoSnapshot) || !strings.Contains(err.Error(), "postgresql-client") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Fatalf("a file was left: %v", err)
	}
}

// TestDSNSecrets: every form a password takes in a DSN as written, so
// that text holding the DSN (an error, the command line) can be scrubbed.
func TestDSNSecrets(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://u:p%40ss%3Aw@h:5432/db":        "p%40ss%3Aw",
		"postgres://u:plain@h/db?sslmode=disable":  "plain",
		"postgres://u@h/db?password=q%26w":         "q%26w",
		"host=h user=u password='a b' dbname=db":   "'a b'",
		"host=h user=u password=kv-secret dbname=": "kv-secret",
	} {
		got := store.DSNSecrets(dsn)
		if !slices.Contains(got, want) {
			t.Errorf("DSNSecrets(%q) = %q, want %q among them", dsn, got, want)
		}
	}
	if got := store.DSNSecrets("postgres://u@h/db"); len(got) != 0 {
		t.Errorf("no password: %q", got)
	}
}

// TestPostgresReleaseEndsTheClaimAtOnce: a release that came while the
// claim's connection was being checked made the check fail, and the claim
// closed its connection without unlocking: the lock went only once
// PostgreSQL noticed the session gone, after release returned, and a
// server claiming right then was refused ("another Phoenix server uses
// this database"; seen in CI). Checking all the time, every release is
// followed at once by a claim that succeeds.
func TestPostgresReleaseEndsTheClaimAtOnce(t *testing.T) {
	store.SetClaimCheckForTest(t, time.Millisecond) // checking often: a ping takes a good part of it
	ctx := context.Background()
	dsn := testkit.Postgres(t).NewDatabase(t)
	open := opener(t, dsn)
	holder, other := open(), open()
	for i := range 40 {
		release, err := holder.Claim(ctx, nil)
		if err != nil {
			t.Fatalf("round %d: claim: %v", i, err)
		}
		time.Sleep(time.Duration(i%7) * 300 * time.Microsecond) // release at different points of the check
		if err := release(); err != nil {
			t.Fatal(err)
		}
		again, err := other.Claim(ctx, nil)
		if err != nil {
			t.Fatalf("round %d: claim right after the release: %v", i, err)
		}
		if err := again(); err != nil {
			t.Fatal(err)
		}
	}
}
