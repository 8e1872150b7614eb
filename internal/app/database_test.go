package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// dbPassword is put in the database URL: the test server trusts every
// local login, so it is never checked, and so must show nowhere.
const dbPassword = "pg-password-never-shown-7d1e"

// TestPostgresEndToEnd runs the server on PostgreSQL through the paths
// that write the most SQL: deployments, activation and rollback, a
// pipeline workflow run that takes a backup (pg_dump) and verifies it,
// vault set and get, and the audit chain's verification; then a second
// server process on the same database finds it all again.
func TestPostgresEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	dir, repo := t.TempDir(), initRepo(t, backupKey)
	var log bytes.Buffer
	opts := Options{DataDir: dir, DatabaseURL: dsn, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backup: BackupOptions{Repo: repo, Key: vault.SecretString(backupKey), Schedule: "off"}}
	a := startOpts(t, opts)
	if _, err := os.Stat(filepath.Join(dir, "state.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite file in the data dir: %v", err)
	}

	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "API_TOKEN", vault.SecretString(secretMarker), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	deployPage(t, a, "production", "<title>one</title>")
	deployPage(t, a, "production", "<title>two</title>")
	wantPage(t, a, "production", "<title>two</title>")
	deps, err := a.Deploy.Deployments(ctx, "shop", "production", 10)
	if err != nil || len(deps) != 2 {
		t.Fatalf("deployments: %+v %v", deps, err)
	}
	if _, err := a.Deploy.Rollback(ctx, "shop", "production", 0, "t"); err != nil {
		t.Fatal(err)
	}
	wantPage(t, a, "production", "<title>one</title>")

	d := runBackupWorkflow(t, a)
	if d.Status != pipeline.Succeeded {
		t.Fatalf("workflow %s: %+v", d.Status, d.Steps)
	}
	list, err := a.Backups.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("snapshots: %+v %v", list, err)
	}
	rep, err := a.Audit.Verify(ctx)
	if err != nil || !rep.OK || rep.Records < 10 {
		t.Fatalf("audit: %+v %v", rep, err)
	}
	a.Stop(ctx)

	b := startOpts(t, opts) // the next server process, on the same database
	wantPage(t, b, "production", "<title>one</title>")
	v, _, err := b.Vault.Get(ctx, admin, "API_TOKEN", 0)
	if err != nil || v.Reveal() != secretMarker {
		t.Fatalf("secret after restart: %v", err)
	}
	if rep, err := b.Audit.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("audit after restart: %+v %v", rep, err)
	}
	restored := restoreLatest(t, repo)
	if _, err := os.Stat(filepath.Join(restored, "state.pgdump")); err != nil {
		t.Fatalf("the snapshot holds no database dump: %v", err)
	}
	b.Stop(ctx)
	sqlite, _ := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err := sqlite.Start(ctx); usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "keeps its state in PostgreSQL") {
		t.Fatalf("a start without the database URL: %v", err)
	}
	assertAbsent(t, repo, secretMarker, backupKey, dbPassword)
	assertAbsent(t, dir, dbPassword)
	if bytes.Contains(log.Bytes(), []byte(dbPassword)) || !bytes.Contains(log.Bytes(), []byte("xxxxx")) {
		t.Fatalf("the log shows the database password, or never names the database:\n%s", log.String())
	}
}

// runBackupWorkflow runs a workflow that takes a backup and verifies it,
// and returns the finished run.
func runBackupWorkflow(t *testing.T, a *App) *pipeline.RunDetail {
	t.Helper()
	ctx := context.Background()
	proj := t.TempDir()
	yaml := "version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\nworkflows:\n  nightly-backup:\n    triggers: [{cron: \"0 3 * * *\"}]\n    steps:\n" +
		"      - {name: take, uses: backup}\n      - {name: check, uses: backup/verify, needs: [take], with: {snapshot: \"${{ steps.take.outputs.snapshot }}\"}}\n"
	if err := os.WriteFile(filepath.Join(proj, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := a.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: proj, Workflow: "nightly-backup", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		d, err := a.Pipeline.Get(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pipeline.Finished(d.Status) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("workflow still %s", d.Status)
		}
		time.Sleep(20 * time.Millisecond) // polling for the end of the run, not timing it
	}
}

// TestMigrationsOnPostgres applies every domain's migrations (the
// registry) to an empty PostgreSQL database, twice, and checks that no
// column kept a narrower type than on SQLite (int4, float4) or a
// locale-dependent text collation.
func TestMigrationsOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, testkit.Postgres(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for range 2 {
		if err := st.Migrate(ctx, migrations()...); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range migrations() {
		v, err := st.SchemaVersion(ctx, m.Domain)
		if err != nil || v == 0 {
			t.Errorf("%s: schema version %d, %v", m.Domain, v, err)
		}
	}
	rows, err := st.QueryContext(ctx, `SELECT table_name, column_name, data_type, COALESCE(collation_name, '')
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var table, column, typ, coll string
		if err := rows.Scan(&table, &column, &typ, &coll); err != nil {
			t.Fatal(err)
		}
		n++
		switch {
		case typ == "integer" || typ == "real" || typ == "smallint":
			t.Errorf("%s.%s is %s: narrower than on SQLite", table, column, typ)
		case typ == "text" && coll != "C":
			t.Errorf("%s.%s collates %q, not byte by byte", table, column, coll)
		}
	}
	if n < 100 {
		t.Fatalf("only %d columns: the registry's tables are missing", n)
	}
}

// TestPostgresOneServerPerDatabase: a second server on a database in use
// stops with a conflict naming it; once the first stops, it starts.
func TestPostgresOneServerPerDatabase(t *testing.T) {
	t.Parallel()
	dsn := testkit.Postgres(t).NewDatabase(t)
	a := startOpts(t, Options{DataDir: t.TempDir(), DatabaseURL: dsn})
	b, err := New(Options{DataDir: t.TempDir(), DatabaseURL: dsn, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(context.Background())
	if usererr.KindOf(err) != usererr.Conflict || errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), "in use by another Phoenix server") {
		t.Fatalf("second server: %v", err)
	}
	a.Stop(context.Background())
	startOpts(t, Options{DataDir: t.TempDir(), DatabaseURL: dsn})
}

// TestDatabaseURLErrors: a URL of another engine is a usage error, and a
// server that does not answer is an unavailable error naming the flag;
// neither shows the password.
func TestDatabaseURLErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		kind usererr.Kind
	}{
		{"mysql://u:" + dbPassword + "@h/db", usererr.Usage},
		{"just-a-word", usererr.Usage},
		{"postgres://u:" + dbPassword + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=5", usererr.Unavailable},
	} {
		a, err := New(Options{DataDir: t.TempDir(), DatabaseURL: tc.url, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		err = a.Start(context.Background())
		if usererr.KindOf(err) != tc.kind || strings.Contains(err.Error()+usererr.HintOf(err), dbPassword) ||
			!strings.Contains(err.Error()+usererr.HintOf(err), "database-url") {
			t.Errorf("%s: %v (hint %q)", tc.url[:8], err, usererr.HintOf(err))
		}
	}
}

func FuzzCheckDatabaseURL(f *testing.F) {
	f.Add("postgres://u:secretpw@h:5432/db")
	f.Add("mysql://u:secretpw@h/db")
	f.Add("host=h password=secretpw")
	f.Add("postgres://u:secretpw@h:bad/db")
	f.Fuzz(func(t *testing.T, s string) {
		err := CheckDatabaseURL("--database-url", s)
		if err == nil || !strings.Contains(s, "secretpw") || strings.Count(s, "secretpw") > 1 {
			return
		}
		if rest := strings.Replace(s, "secretpw", "", 1); !strings.Contains(rest, "secretpw") && strings.Contains(err.Error(), "secretpw") {
			if strings.Contains(s, "://") && strings.Contains(s, ":secretpw@") {
				t.Fatalf("CheckDatabaseURL(%q) shows the password: %v", s, err)
			}
		}
	})
}

// TestSQLiteDataDirRefusesADatabaseURL: a data dir whose state is in its
// state.db, never moved with 'phoenix store copy', is refused with a
// database URL, naming the copy. A command run with PHOENIX_DATABASE_URL
// exported for the copy (docs/postgres.md exports it first) started its
// in-process server on an empty state in the database, made a new audit
// key, overwrote keys/audit.pub (so the SQLite log no longer verified) and
// marked the dir as moved, after which the copy was refused.
func TestSQLiteDataDirRefusesADatabaseURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testkit.Postgres(t).NewDatabase(t)
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir})
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "keys", "audit.pub"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{DataDir: dir, DatabaseURL: dsn, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", InProcess: true,
		FlagName: func(string) string { return "PHOENIX_DATABASE_URL" }})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Start(ctx)
	if err == nil {
		b.Stop(ctx)
	}
	if usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "keeps its state in state.db (SQLite): with PHOENIX_DATABASE_URL") {
		t.Fatalf("a start with a database URL: %v", err)
	}
	var ue *usererr.Error
	if !errors.As(err, &ue) || !strings.Contains(ue.Hint, "phoenix store copy --data "+dir) {
		t.Fatalf("hint: %+v", ue)
	}
	if _, err := os.Stat(filepath.Join(dir, PostgresMarker)); !os.IsNotExist(err) {
		t.Fatalf("%s written: %v", PostgresMarker, err)
	}
	if now, err := os.ReadFile(filepath.Join(dir, "keys", "audit.pub")); err != nil || !bytes.Equal(now, pub) {
		t.Fatalf("keys/audit.pub changed: %q, was %q (%v)", now, pub, err)
	}
	c := startOpts(t, Options{DataDir: dir}) // still a SQLite dir
	if rep, err := c.Audit.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("audit: %+v %v", rep, err)
	}
}
