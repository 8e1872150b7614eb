package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"io"
	"os"
	"path/filepath"
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
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/scan/osv"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

var bg = context.Background()

// clock is the fake time every service of the fixture reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time                         { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)                        { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// fixture is a state store with every domain a report reads, each
// service on the fake clock.
type fixture struct {
	t     *testing.T
	dir   string
	clk   *clock
	log   *audit.Log
	auth  *auth.Service
	dep   *deploy.Service
	mon   *monitor.Monitor
	pipe  *pipeline.Service
	blobs *local.Store
}

func newFixture(t *testing.T, start time.Time) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, clk: &clock{t: start}}
	db := testkit.OpenStore(t, filepath.Join(dir, "state.db"))
	if err := db.Migrate(bg, audit.Migrations(), auth.Migrations(), deploy.Migrations(), pipeline.Migrations(),
		monitor.Migrations(), notify.Migrations()); err != nil {
		t.Fatal(err)
	}
	key, err := audit.LoadKey(filepath.Join(dir, "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	f.log = audit.New(audit.Options{DB: db, Signer: key.Signer, Verifier: key.Verifier, Now: f.clk.Now})
	if f.auth, err = auth.New(auth.Options{DB: db, Audit: f.log, Now: f.clk.Now,
		Argon2: auth.Argon2{Time: 1, Memory: 64, Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	if f.blobs, err = local.New(filepath.Join(dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	_, skey, _ := sign.GenerateKey(rand.Reader)
	f.dep = deploy.New(deploy.Options{DB: db, Blobs: f.blobs, Key: skey, Now: f.clk.Now,
		Audit: func(ctx context.Context, tx *sql.Tx, e deploy.Event) error {
			_, err := f.log.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Project + "/" + e.Environment, Actor: e.Actor, Detail: e.Detail})
			return err
		}})
	if f.mon, err = monitor.New(monitor.Options{DB: db, Now: f.clk.Now, Proc: "-",
		Audit: func(ctx context.Context, tx *sql.Tx, e monitor.AuditEvent) error {
			_, err := f.log.AppendTx(ctx, tx, audit.Event{Action: e.Action, Target: e.Target, Actor: e.Actor, Detail: e.Detail})
			return err
		}}); err != nil {
		t.Fatal(err)
	}
	if f.pipe, err = pipeline.New(pipeline.Options{DB: db, LogDir: filepath.Join(dir, "runs"), Clock: f.clk,
		Deps: action.Deps{Now: f.clk.Now, AdvisoryDir: filepath.Join(dir, "advisories")}}); err == nil {
		err = f.pipe.Start(bg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.pipe.Stop(bg) })
	return f
}

func (f *fixture) sources() Sources {
	return Sources{Now: f.clk.Now, Metrics: f.mon.Store(), Alerts: f.mon, Deployments: f.dep, Runs: f.pipe, Users: f.auth, Audit: f.log}
}

// at sets the clock.
func (f *fixture) at(t time.Time) *fixture { f.clk.Set(t); return f }

// deploy runs the deploy protocol for release into project/env.
func (f *fixture) deploy(project, env, release string) *deploy.Deployment {
	f.t.Helper()
	return f.deployByRun(project, env, release, "")
}

// deployByRun deploys as deploy does, recording the pipeline run whose
// deploy step made it ("" for none: phoenix deploy).
func (f *fixture) deployByRun(project, env, release, run string) *deploy.Deployment {
	f.t.Helper()
	if err := f.dep.EnsureEnvironment(bg, project, deploy.EnvSpec{Name: env}); err != nil {
		f.t.Fatal(err)
	}
	body := []byte("<h1>" + release + "</h1>")
	d := backend.Sum(body)
	m := &artifact.Manifest{Version: artifact.FormatVersion, Meta: artifact.Meta{Release: release},
		Files: []artifact.File{{Path: "index.html", Digest: d, Size: int64(len(body)), Type: "text/html; charset=utf-8"}}}
	canon, err := m.Canonical()
	if err != nil {
		f.t.Fatal(err)
	}
	up, err := f.dep.BeginUpload(bg, project, canon)
	if err != nil {
		f.t.Fatal(err)
	}
	for range up.Missing {
		if err := f.dep.PutBlob(bg, up.ID, d, bytes.NewReader(body), int64(len(body))); err != nil {
			f.t.Fatal(err)
		}
	}
	dep, err := f.dep.Finalize(bg, up.ID, deploy.FinalizeOptions{Environment: env, Actor: "alice", Run: run})
	if err != nil {
		f.t.Fatal(err)
	}
	return dep
}

// point records a metric aggregate at the clock's time.
func (f *fixture) point(series string, n, good int64, sum, lo, hi float64) {
	f.mon.Store().Add(monitor.Point{Series: series, Time: f.clk.Now(), Agg: monitor.Agg{N: n, Good: good, Sum: sum, Min: lo, Max: hi}})
	if err := f.mon.Store().Flush(bg); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) eval() {
	f.t.Helper()
	if err := f.mon.Evaluate(bg); err != nil {
		f.t.Fatal(err)
	}
}

// release runs a release through the real security gates: a project
// locking a (MIT, with a critical advisory accepted by an exception), b
// (GPL-3.0-only, to review, accepted by an exception) and c (a dev
// dependency with a high advisory, reported but not gated), against an
// advisory database imported from two OSV files.
func (f *fixture) release(version string) *pipeline.Run {
	f.t.Helper()
	dir := filepath.Join(f.dir, "src-"+version)
	adv := filepath.Join(f.dir, "osv")
	files := map[string]string{
		"phoenix.yaml": "project: {name: site}\nenvironments: {staging: {}}\nchecks:\n  exceptions:\n" +
			"    - {id: GHSA-aaaa-bbbb-cccc, reason: not reachable, expires: \"2026-12-31\"}\n" +
			"    - {package: b, license: GPL-3.0-only, reason: build tool only, expires: \"2026-12-31\"}\n" +
			"pipeline:\n  stages:\n    - name: main\n      steps:\n        - {name: audit, uses: check/audit}\n" +
			"        - {name: licenses, uses: check/licenses}\n        - {name: secrets, uses: check/secrets}\n        - {name: sbom, uses: check/sbom}\n",
		"package.json": `{"name":"site","version":"3.0.0","dependencies":{"a":"1.0.0","b":"1.0.0"},"devDependencies":{"c":"1.0.0"}}`,
		"package-lock.json": `{"name":"site","lockfileVersion":3,"packages":{"":{"name":"site","dependencies":{"a":"1.0.0","b":"1.0.0"},"devDependencies":{"c":"1.0.0"}},` +
			`"node_modules/a":{"version":"1.0.0","license":"MIT"},"node_modules/b":{"version":"1.0.0","license":"GPL-3.0-only"},` +
			`"node_modules/c":{"version":"1.0.0","license":"MIT","dev":true}}}`,
		"../osv/GHSA-aaaa-bbbb-cccc.json": `{"id":"GHSA-aaaa-bbbb-cccc","summary":"a: prototype pollution","database_specific":{"severity":"CRITICAL"},` +
			`"affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`,
		"../osv/GHSA-dddd-eeee-ffff.json": `{"id":"GHSA-dddd-eeee-ffff","summary":"c: ReDoS","database_specific":{"severity":"HIGH"},` +
			`"affected":[{"package":{"ecosystem":"npm","name":"c"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.5.0"}]}]}]}`,
	}
	f.write(dir, files)
	if _, err := osv.Import(bg, adv, filepath.Join(f.dir, "advisories"), f.clk.Now()); err != nil {
		f.t.Fatal(err)
	}
	return f.releaseDir(dir, version)
}

// releasedSite starts a fixture, writes the project "site" with
// phoenix.yaml holding yaml and releases it as v1.0.0: the fixture, the
// project's folder and the finished run.
func releasedSite(t *testing.T, yaml string) (*fixture, string, *pipeline.Run) {
	t.Helper()
	f := newFixture(t, t0)
	dir := filepath.Join(f.dir, "site")
	f.write(dir, map[string]string{"phoenix.yaml": yaml})
	return f, dir, f.releaseDir(dir, "v1.0.0")
}

// write writes files (name -> content) under dir.
func (f *fixture) write(dir string, files map[string]string) {
	f.t.Helper()
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// releaseDir releases the project in dir as version and returns its run
// once it has finished (its log, followed, ends with it).
func (f *fixture) releaseDir(dir, version string) *pipeline.Run {
	f.t.Helper()
	run, err := f.pipe.Release(bg, pipeline.ReleaseRequest{Dir: dir, Version: version, Actor: "alice", Commit: "abc"})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	if err := f.pipe.Logs(ctx, run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		f.t.Fatalf("release %s: %v", version, err)
	}
	d, err := f.pipe.Get(bg, run.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if !pipeline.Finished(d.Status) {
		f.t.Fatalf("release %s is %s after its log ended", version, d.Status)
	}
	return &d.Run
}
