package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// TestCopyToPostgres moves a SQLite server with history (deployments and
// a rollback, a pipeline run, a vault secret, a user, tokens, a silence,
// the audit log with checkpoints) into PostgreSQL and starts it there: the
// same deployment is served, the run and its log are there, the audit log
// verifies, a token made before the copy still signs in, the secret reads
// with the master key, and new rows get new ids. state.db stays as it was,
// and a start without the database URL is refused.
func TestCopyToPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := strings.Replace(testkit.Postgres(t).NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	dir := t.TempDir()
	opts := Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF}
	a := startOpts(t, opts)
	admin := vault.Subject{Actor: "t", Roles: []string{"admin"}}
	if _, err := a.Vault.Set(ctx, admin, "API_TOKEN", vault.SecretString(secretMarker), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	deployPage(t, a, "production", "<title>one</title>")
	deployPage(t, a, "production", "<title>two</title>")
	if _, err := a.Deploy.Rollback(ctx, "shop", "production", 0, "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Auth.CreateUser(ctx, "alice", "a long enough password", []auth.Grant{{Role: auth.RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	pr := adminPrincipal(t, a, dir)
	_, token, err := a.Auth.CreateToken(ctx, pr, auth.TokenRequest{Name: "before-the-copy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Monitor.AddSilence(ctx, monitor.Silence{Rule: "error-rate", Ends: time.Now().Add(time.Hour), Comment: "planned"}); err != nil {
		t.Fatal(err)
	}
	proj, _ := workflowDir(t, "true")
	run, err := a.Pipeline.StartWorkflow(ctx, pipeline.WorkflowRequest{Dir: proj, Workflow: "count", Actor: "t", Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Pipeline.Logs(fctx, run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	before, err := a.Deploy.Deployments(ctx, "shop", "production", 10)
	if err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx) // signs a final checkpoint
	sqliteBytes, err := os.ReadFile(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}

	var done, total int64
	rep, err := CopyToPostgres(ctx, dir, dsn, func(d, tot int64) { done, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Audit.OK || rep.Audit.Checkpoints == 0 || rep.Rows == 0 || done != rep.Rows || total != rep.Rows {
		t.Fatalf("report %+v audit %+v, progress %d of %d", rep, rep.Audit, done, total)
	}
	if strings.Contains(rep.Database, dbPassword) {
		t.Fatalf("the report shows the password: %s", rep.Database)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "state.db")); string(after) != string(sqliteBytes) {
		t.Fatal("the copy changed state.db")
	}
	sqlite, _ := New(Options{DataDir: dir, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0"})
	if err := sqlite.Start(ctx); usererr.KindOf(err) != usererr.Usage {
		t.Fatalf("a start on state.db after the copy: %v", err)
	}

	opts.DatabaseURL = dsn
	b := startOpts(t, opts)
	wantPage(t, b, "production", "<title>one</title>")
	after, err := b.Deploy.Deployments(ctx, "shop", "production", 10)
	if err != nil || len(after) != len(before) || after[0].ID != before[0].ID || after[0].Active != before[0].Active {
		t.Fatalf("deployments before %+v, after %+v (%v)", before, after, err)
	}
	if v, _, err := b.Vault.Get(ctx, admin, "API_TOKEN", 0); err != nil || v.Reveal() != secretMarker {
		t.Fatalf("secret after the copy: %v", err)
	}
	if p, err := b.Auth.Authenticate(ctx, token); err != nil || p.User != pr.User {
		t.Fatalf("a token from before the copy: %+v %v", p, err)
	}
	var logs bytes.Buffer
	if err := b.Pipeline.Logs(ctx, run.ID, pipeline.LogOptions{}, &logs); err != nil || runStatus(t, b, run.ID) != pipeline.Succeeded ||
		!strings.Contains(logs.String(), "output of the step") {
		t.Fatalf("the run after the copy: %s %q %v", runStatus(t, b, run.ID), logs.String(), err)
	}
	if s, err := b.Monitor.Silences(ctx, false); err != nil || len(s) != 1 || s[0].Comment != "planned" {
		t.Fatalf("silences: %+v %v", s, err)
	}
	// New rows after the copy: identity sequences continue past the copied ids.
	deployPage(t, b, "production", "<title>three</title>")
	if _, err := b.Auth.CreateUser(ctx, "bob", "another long password", nil); err != nil {
		t.Fatal(err)
	}
	if r, err := b.Audit.Verify(ctx); err != nil || !r.OK || r.Records <= rep.Audit.Records {
		t.Fatalf("audit after new writes: %+v %v", r, err)
	}
	b.Stop(ctx)
	assertAbsent(t, dir, dbPassword)
}

// TestCopyToPostgresRefusals: a running server, a database with Phoenix
// data, a data dir already moved, and a URL of another engine.
func TestCopyToPostgresRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testkit.Postgres(t)
	dir := t.TempDir()
	a := start(t, dir)
	deployPage(t, a, "production", "<title>one</title>")
	_, err := CopyToPostgres(ctx, dir, pg.NewDatabase(t), nil)
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "in use") || !strings.Contains(usererr.HintOf(err), "stop the server") {
		t.Fatalf("copy while the server runs: %v (hint %q)", err, usererr.HintOf(err))
	}
	a.Stop(ctx)

	full := strings.Replace(pg.NewDatabase(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	other := startOpts(t, Options{DataDir: t.TempDir(), DatabaseURL: full})
	other.Stop(ctx)
	_, err = CopyToPostgres(ctx, dir, full, nil)
	if usererr.KindOf(err) != usererr.Conflict || !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "already holds Phoenix data") {
		t.Fatalf("copy into a database in use: %v", err)
	}
	if strings.Contains(err.Error()+usererr.HintOf(err), dbPassword) {
		t.Fatalf("the refusal shows the password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PostgresMarker)); !os.IsNotExist(err) {
		t.Fatalf("a refused copy recorded the database: %v", err)
	}

	if _, err := CopyToPostgres(ctx, dir, "mysql://db/phoenix", nil); usererr.KindOf(err) != usererr.Usage || !strings.Contains(err.Error(), "--to") {
		t.Fatalf("a MySQL URL: %v", err)
	}
	if _, err := CopyToPostgres(ctx, dir, pg.NewDatabase(t), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := CopyToPostgres(ctx, dir, pg.NewDatabase(t), nil); usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), "already keeps its state in PostgreSQL") {
		t.Fatalf("a second copy of a moved data dir: %v", err)
	}
}

// adminPrincipal signs in with the data dir's admin token.
func adminPrincipal(t *testing.T, a *App, dir string) *auth.Principal {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Auth.Authenticate(context.Background(), strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
