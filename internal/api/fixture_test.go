package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/artifact/backend/local"
	"github.com/phoenixvc/phoenix/internal/artifact/sign"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/notify"
	"github.com/phoenixvc/phoenix/internal/pipeline"
	"github.com/phoenixvc/phoenix/internal/store"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

var bg = context.Background()

// fixture is a real API over a real store: audit log, auth, deployments.
type fixture struct {
	t      *testing.T
	api    *API
	srv    *httptest.Server
	auth   *auth.Service
	dep    *deploy.Service
	log    *audit.Log
	blobs  *local.Store
	db     *store.DB
	vault  *vault.Vault
	pipe   *pipeline.Service
	mon    *monitor.Monitor
	quick  string            // project folder whose staging release finishes at once
	gated  string            // project folder whose production release waits for an approval
	done   int64             // a finished run
	tokens map[string]string // principal -> bearer token
	logs   *syncBuffer

	mu  sync.Mutex
	now time.Time
	seq int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fixture) unique(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("%s%d", prefix, f.seq)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(bg, audit.Migrations(), auth.Migrations(), deploy.Migrations(), vault.Migrations(), pipeline.Migrations(),
		monitor.Migrations(), notify.Migrations()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, tokens: map[string]string{}, logs: &syncBuffer{}, now: time.Now().UTC()}
	key, err := audit.LoadKey(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	f.log = audit.New(audit.Options{DB: db, Signer: key.Signer, Verifier: key.Verifier})
	auditor := auth.Role{Name: "auditor", Permissions: []auth.Permission{auth.AuditRead}}
	// A role with the vault's list permission, whom the vault's default
	// policy (admin only) lets list no secret.
	lister := auth.Role{Name: "secret-lister", Permissions: []auth.Permission{auth.SecretsList}}
	f.auth, err = auth.New(auth.Options{DB: db, Audit: f.log, Now: f.clock, Roles: []auth.Role{auditor, lister},
		Argon2: auth.Argon2{Time: 1, Memory: 64, Threads: 1}, LoginRate: auth.LoginRate{PerSource: 10000, PerUserSource: 10000, PerUser: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	f.blobs, err = local.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	_, skey, _ := sign.GenerateKey(rand.Reader)
	f.dep = deploy.New(deploy.Options{DB: db, Blobs: f.blobs, Key: skey,
		Audit: func(ctx context.Context, tx *sql.Tx, e deploy.Event) error {
			_, err := f.log.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Project + "/" + e.Environment, Actor: e.Actor, Detail: e.Detail})
			return err
		}})
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.vault, err = vault.New(vault.Options{DB: db, Logger: logger, Auditor: vaultAuditor{f.log}, KDF: testKDF})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.vault.Init(bg, vault.SecretString(testMasterKey)); err != nil {
		t.Fatal(err)
	}
	f.pipe, err = pipeline.New(pipeline.Options{DB: db, LogDir: filepath.Join(dir, "runs"), Logger: logger,
		Audit: func(ctx context.Context, tx *sql.Tx, e pipeline.AuditEvent) error {
			ev := audit.Event{Action: e.Action, Target: e.Target, Actor: e.Actor, Outcome: strings.ToLower(e.Outcome), Detail: e.Detail}
			if tx == nil {
				_, err := f.log.Append(ctx, ev)
				return err
			}
			_, err := f.log.AppendTx(ctx, tx, ev)
			return err
		}})
	if err == nil {
		err = f.pipe.Start(bg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.pipe.Stop(bg) })
	f.quick, f.gated = f.project(dir, "quick", quickYAML), f.project(dir, "gated", gatedYAML)
	if f.mon, err = monitor.New(monitor.Options{DB: db, Logger: logger, Proc: "-",
		Audit: func(ctx context.Context, tx *sql.Tx, e monitor.AuditEvent) error {
			_, err := f.log.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Target, Actor: e.Actor, Detail: e.Detail})
			return err
		}}); err != nil {
		t.Fatal(err)
	}
	f.api = New(Options{Logger: logger, Store: db, Started: time.Now(), Deploy: f.dep, Auth: f.auth, Audit: f.log,
		AuditKey: key.VerifierKey, InsecureCookies: true, Vault: f.vault, Pipeline: f.pipe, Monitor: f.mon,
		Certificates: fixtureCertificates, CertWarning: 14 * 24 * time.Hour})
	f.srv = httptest.NewServer(f.api.Handler())
	t.Cleanup(f.srv.Close)
	f.seed()
	return f
}

// The fixture's projects: both are "shop"; a staging release of quick
// finishes at once, a production release of gated waits at its gate.
const (
	quickYAML = `
project: {name: shop}
environments: {staging: {}, production: {protection: {approvals: 1}}}
pipeline:
  stages:
    - name: main
      steps: [{name: ok, run: "echo quick release $PHOENIX_VERSION"}]
`
	gatedYAML = `
project: {name: shop}
environments: {staging: {}, production: {protection: {approvals: 1}}}
pipeline:
  stages:
    - name: ship
      environment: production
      steps: [{name: deploy, run: "true"}]
`
)

func (f *fixture) project(dir, name, yaml string) string {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(p, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// run releases the project in dir to env as "seed" and returns the run.
func (f *fixture) run(dir, env string) int64 {
	f.t.Helper()
	r, err := f.pipe.Release(bg, pipeline.ReleaseRequest{Dir: dir, Version: "1.0." + f.unique(""), Environments: []string{env}, Actor: "seed"})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.ID
}

// The vault of the fixture: a cheap key derivation and a known key.
var testKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

const (
	testMasterKey = "fixture master key 0123456789"
	matrixValue   = "matrix-value-7f3a9c2e"
)

// vaultAuditor writes vault records to the audit log, in the vault's
// transaction for changes (as the app does).
type vaultAuditor struct{ log *audit.Log }

func (a vaultAuditor) ev(e vault.AuditEvent) audit.Event {
	return audit.Event{Actor: e.Actor, Action: e.Action, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail}
}

func (a vaultAuditor) Audit(ctx context.Context, e vault.AuditEvent) error {
	_, err := a.log.Append(ctx, a.ev(e))
	return err
}

func (a vaultAuditor) AuditTx(ctx context.Context, tx *sql.Tx, e vault.AuditEvent) error {
	_, err := a.log.AppendTx(ctx, tx, a.ev(e))
	return err
}

// secret stores a new secret with a unique name as the admin and
// returns its name.
func (f *fixture) secret(prefix string) string {
	f.t.Helper()
	name := f.unique(prefix)
	if _, err := f.vault.Set(bg, vault.Subject{Actor: "seed", Roles: []string{"admin"}}, name, vault.SecretString("v-"+name), vault.SetOptions{}); err != nil {
		f.t.Fatal(err)
	}
	return name
}

// deleted is a unique secret that has been deleted.
func (f *fixture) deleted(prefix string) string {
	name := f.secret(prefix)
	if _, err := f.vault.Delete(bg, vault.Subject{Actor: "seed", Roles: []string{"admin"}}, name); err != nil {
		f.t.Fatal(err)
	}
	return name
}

// seed makes the principals of the matrix and a project with history.
func (f *fixture) seed() {
	t := f.t
	admin, _, err := f.auth.Bootstrap(bg, "")
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["admin"] = admin
	users := map[string][]auth.Grant{
		"contributor": {{Role: auth.RoleContributor}},
		"viewer":      {{Role: auth.RoleViewer}},
		"approver":    {{Role: auth.RoleApprover}},
		"stager":      {{Role: auth.RoleContributor, Environment: "staging"}, {Role: auth.RoleViewer, Environment: "production"}},
		"auditor":     {{Role: "auditor"}},
		"target":      {{Role: auth.RoleViewer}},
	}
	for name, gs := range users {
		if _, err := f.auth.CreateUser(bg, name, "", gs); err != nil {
			t.Fatal(err)
		}
		if name != "target" {
			f.tokens[name] = f.mint(name, auth.TokenRequest{})
		}
	}
	if _, err := f.auth.CreateUser(bg, "pwuser", "correct horse battery", []auth.Grant{{Role: auth.RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	f.tokens["ci"] = f.mint("contributor", auth.TokenRequest{Kind: auth.KindDeploy, Project: "shop", Environment: "staging"})
	f.tokens["expired"] = f.mint("admin", auth.TokenRequest{TTL: time.Minute})
	f.tokens["revoked"] = f.mint("admin", auth.TokenRequest{})
	pr := f.principal("admin")
	if err := f.auth.RevokeToken(bg, pr, auth.TokenID(f.tokens["revoked"])); err != nil {
		t.Fatal(err)
	}
	f.tokens["forged"] = admin[:len(admin)-8] + "00000000"
	for _, e := range []deploy.EnvSpec{{Name: "staging"}, {Name: "production", Locked: true}} {
		if err := f.dep.EnsureEnvironment(bg, "shop", e); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			f.deploy(e.Name, fmt.Sprintf("%s v%d", e.Name, i))
		}
	}
	if _, err := f.vault.Set(bg, vault.Subject{Actor: "seed", Roles: []string{"admin"}}, "MATRIX_KEY",
		vault.SecretString(matrixValue), vault.SetOptions{ExpiresAt: f.now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r := f.run(f.quick, "staging")
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	if err := f.pipe.Logs(ctx, r, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	f.done = r
	f.advance(2 * time.Minute) // the expired token is now expired
}

func (f *fixture) principal(who string) *auth.Principal {
	pr, err := f.auth.Authenticate(bg, f.tokens[who])
	if err != nil {
		f.t.Fatalf("principal %s: %v", who, err)
	}
	return pr
}

// mint makes a token for user through a full-rights token of that user.
func (f *fixture) mint(user string, req auth.TokenRequest) string {
	f.t.Helper()
	pr, err := f.auth.UserPrincipal(bg, "admin")
	if err != nil {
		f.t.Fatal(err)
	}
	if req.Kind == "" {
		req.User = user
	} else {
		pr, _ = f.auth.UserPrincipal(bg, user)
	}
	_, secret, err := f.auth.CreateToken(bg, pr, req)
	if err != nil {
		f.t.Fatalf("mint for %s: %v", user, err)
	}
	return secret
}

// manifest returns a one-file manifest with unique content.
func (f *fixture) manifest(body string) ([]byte, backend.Digest, []byte) {
	content := []byte(body + " " + f.unique("#"))
	d := backend.Sum(content)
	m := &artifact.Manifest{Version: artifact.FormatVersion, Files: []artifact.File{{Path: "index.html", Digest: d,
		Size: int64(len(content)), Type: "text/html; charset=utf-8"}}}
	canon, err := m.Canonical()
	if err != nil {
		f.t.Fatal(err)
	}
	return canon, d, content
}

// upload opens an upload whose one blob is still missing.
func (f *fixture) upload() (id string, d backend.Digest, content []byte) {
	canon, d, content := f.manifest("upload")
	up, err := f.dep.BeginUpload(bg, "shop", canon)
	if err != nil {
		f.t.Fatal(err)
	}
	return up.ID, d, content
}

// ready opens an upload with every blob present, ready to finalize.
func (f *fixture) ready() string {
	id, d, content := f.upload()
	if err := f.dep.PutBlob(bg, id, d, bytes.NewReader(content), int64(len(content))); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) deploy(env, body string) {
	id := f.ready()
	if _, err := f.dep.Finalize(bg, id, deploy.FinalizeOptions{Environment: env, Actor: "seed"}); err != nil {
		f.t.Fatal(err)
	}
}

// inactive is a deployment of env that is not the active one.
func (f *fixture) inactive(env string) int64 {
	deps, err := f.dep.Deployments(bg, "shop", env, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, d := range deps {
		if !d.Active {
			return d.ID
		}
	}
	f.t.Fatal("no inactive deployment")
	return 0
}

// call sends a request as who and returns the status and body.
func (f *fixture) call(who, method, path string, body any) (int, []byte, http.Header) {
	f.t.Helper()
	resp := f.send(who, method, path, body)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header
}

// send sends a request as who; the caller reads and closes the body.
func (f *fixture) send(who, method, path string, body any) *http.Response {
	f.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/octet-stream"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if tok := f.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp
}
