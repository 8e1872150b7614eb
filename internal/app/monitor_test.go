package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/artifact"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// deploySite builds files into an artifact and deploys it through the
// API; a message "pipeline run N" deploys it as run N's deploy step does
// (action.DeployService, naming the run), which the server does not verify.
func deploySite(t *testing.T, a *App, env, release, message string, files map[string]string) int64 {
	t.Helper()
	run, isRun := strings.CutPrefix(message, "pipeline run ")
	return deployAs(t, a, env, release, message, files, isRun, run)
}

// deployAs is deploySite; asRun deploys as run's deploy step does, else
// through the API whatever the message says.
func deployAs(t *testing.T, a *App, env, release, message string, files map[string]string, asRun bool, run string) int64 {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	for p, body := range files {
		os.WriteFile(filepath.Join(dir, p), []byte(body), 0o644)
	}
	m, err := artifact.Build(ctx, dir, a.Blobs, artifact.BuildOptions{Meta: artifact.Meta{Project: "shop", Release: release}})
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := m.Canonical()
	if err := a.Deploy.EnsureProject(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Deploy.Environment(ctx, "shop", env); err != nil { // a new one; an existing one keeps its settings
		if err := a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: env}); err != nil {
			t.Fatal(err)
		}
	}
	if asRun {
		res, err := action.DeployService{Svc: a.Deploy, Blobs: a.Blobs}.Deploy(ctx, action.DeployRequest{Project: "shop",
			Environment: env, Manifest: canon, Release: release, Actor: "admin", Message: message, Run: run})
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.New(a.APIURL(), tok).Deploy(ctx, client.DeployRequest{Project: "shop", Environment: env, Manifest: canon,
		Blobs: a.Blobs, Message: message})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

func activeID(t *testing.T, a *App, env string) int64 {
	t.Helper()
	e, err := a.Deploy.Environment(context.Background(), "shop", env)
	if err != nil {
		t.Fatal(err)
	}
	return e.ActiveID
}

// TestFailedVerificationRollsBack: a deployment whose home page does not
// answer 200 is rolled back by the server; one a pipeline run made is left
// to the run's own health checks.
func TestFailedVerificationRollsBack(t *testing.T) {
	t.Parallel()
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", VerifySoak: 200 * time.Millisecond, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	good := map[string]string{"index.html": "<h1>good</h1>"}
	broken := map[string]string{"other.html": "no home page"}

	v1 := deploySite(t, a, "production", "v1", "", good)
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("a healthy deployment was rolled back: active %d, want %d", got, v1)
	}
	v2 := deploySite(t, a, "production", "v2", "", broken)
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("broken deployment %d not rolled back: active %d, want %d", v2, got, v1)
	}
	v3 := deploySite(t, a, "production", "v3", "pipeline run 7", broken)
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v3 {
		t.Fatalf("the server rolled back a pipeline run's deployment: active %d, want %d", got, v3)
	}
	// v2 is recorded as failed, so a plain rollback from v3 skips it.
	ds, err := a.Deploy.Deployments(context.Background(), "shop", "production", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if failed := d.Failure != ""; failed != (d.ID == v2) || failed && !strings.Contains(d.Failure, "200") {
			t.Errorf("deployment %d (v%d failed): failure %q", d.ID, v2, d.Failure)
		}
	}
	d, err := a.Deploy.Rollback(context.Background(), "shop", "production", 0, "ops")
	if err != nil || d.ID != v1 {
		t.Fatalf("rollback from v3 went to %+v (%v), want deployment %d", d, err, v1)
	}
}

// TestVerificationPassesTheAllowList: an environment open only to an
// office range and rate-limited to 1 request an hour is still verified
// by the server's own probes (they carry its probe marker), so a healthy
// deployment stays, while a client from outside the range is refused.
func TestVerificationPassesTheAllowList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 200 * time.Millisecond, Proc: "-"})
	deploySite(t, a, "production", "v1", "", map[string]string{"index.html": "<h1>one</h1>"})
	a.projects.wait()
	if code, body := putEdge(t, a, "project: {name: shop}\nedge: {rate_limit: {requests: 1, per: 1h}}\n"); code != 200 {
		t.Fatalf("put edge policy: %d %s", code, body)
	}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "production", IPAllow: []string{"192.0.2.0/24"}}); err != nil {
		t.Fatal(err)
	}
	v2 := deploySite(t, a, "production", "v2", "", map[string]string{"index.html": "<h1>two</h1>"})
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v2 {
		t.Fatalf("a healthy deployment behind an allow-list was rolled back: active %d, want %d", got, v2)
	}
	if code := hostGet(t, a, "production.shop.localhost"); code != 403 {
		t.Fatalf("a client outside the allow-list: %d, want 403", code)
	}
}

// TestVerificationOnATLSOnlyEdge: with certificate files and no
// --edge-tls-listen the edge's one listener speaks TLS with the public
// names' certificate; the server's verification probes it over TLS
// without checking that certificate against *.localhost, so a healthy
// deployment stays (it was rolled back: plain HTTP to a TLS port).
func TestVerificationOnATLSOnlyEdge(t *testing.T) {
	t.Parallel()
	static, _ := testkit.SelfSigned(t, "www.shop.test")
	cert, key := testkit.WriteKeyPair(t, t.TempDir(), static)
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 200 * time.Millisecond, Proc: "-", EdgeTLSCert: []string{cert}, EdgeTLSKey: []string{key}})
	deploySite(t, a, "production", "v1", "", map[string]string{"index.html": "<h1>one</h1>"})
	a.projects.wait()
	v2 := deploySite(t, a, "production", "v2", "", map[string]string{"index.html": "<h1>two</h1>"})
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v2 {
		t.Fatalf("a healthy deployment on a TLS-only edge was rolled back: active %d, want %d", got, v2)
	}
}

// TestSupersededVerificationIsNotActedOn: a broken deployment replaced
// while its verification soaks is neither rolled back nor recorded as
// failed when the verdict comes: the Guard asks which deployment is
// active now.
func TestSupersededVerificationIsNotActedOn(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: 2 * time.Second, Proc: "-"})
	good := map[string]string{"index.html": "<h1>good</h1>"}
	deploySite(t, a, "production", "v1", "pipeline run 1", good)
	v2 := deploySite(t, a, "production", "v2", "", map[string]string{"other.html": "no home page"})
	v3 := deploySite(t, a, "production", "v3", "pipeline run 2", good) // within v2's soak
	a.projects.wait()
	if got := activeID(t, a, "production"); got != v3 {
		t.Fatalf("active %d, want %d", got, v3)
	}
	ds, err := a.Deploy.Deployments(context.Background(), "shop", "production", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Failure != "" {
			t.Errorf("deployment %d (v2 is %d) recorded as failed after it was superseded: %q", d.ID, v2, d.Failure)
		}
	}
}

// TestProbesStartWithTheFirstDeployment: phoenix.yaml's probe of an
// environment that serves nothing yet (production while the first
// release waits in staging) is not run, so the edge's 404 for it is not
// recorded as downtime; the probe starts once a deployment is activated.
func TestProbesStartWithTheFirstDeployment(t *testing.T) {
	t.Parallel()
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", VerifySoak: 100 * time.Millisecond, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	cfg := config.Default()
	cfg.Monitor.Endpoints = []config.Endpoint{
		{Name: "home", URL: "/", Environment: "staging"},
		{Name: "home", URL: "/", Environment: "production"},
		{Name: "api", URL: "https://api.example.com/health"}, // no environment: always probed
	}
	probes := func() []string {
		a.projects.mu.Lock()
		a.projects.cfg["shop"] = cfg
		a.projects.mu.Unlock()
		a.reconfigure()
		var ids []string
		for _, t := range a.Monitor.Targets() {
			ids = append(ids, t.ID())
		}
		slices.Sort(ids)
		return ids
	}
	if got, want := probes(), []string{"/api"}; !slices.Equal(got, want) {
		t.Fatalf("probes before any deployment: %v, want %v", got, want)
	}
	deploySite(t, a, "staging", "v1", "", map[string]string{"index.html": "<h1>v1</h1>"})
	a.projects.wait()
	if got, want := probes(), []string{"/api", "staging.shop/home"}; !slices.Equal(got, want) {
		t.Fatalf("probes with staging deployed: %v, want %v", got, want)
	}
	deploySite(t, a, "production", "v1", "", map[string]string{"index.html": "<h1>v1</h1>"})
	a.projects.wait()
	if got, want := probes(), []string{"/api", "production.shop/home", "staging.shop/home"}; !slices.Equal(got, want) {
		t.Fatalf("probes with both deployed: %v, want %v", got, want)
	}
}
