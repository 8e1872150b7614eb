package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// gate is production's health check: the server's probes (its monitor
// and its verification: User-Agent phoenix-monitor) get status at once;
// a pipeline run's health-check step is announced on held and waits
// until release is closed (or the request is abandoned: the run stopped,
// its server killed).
type gate struct {
	*httptest.Server
	status  atomic.Int32
	held    chan struct{}
	release chan struct{}
	opened  sync.Once
}

func newGate(t *testing.T, status int) *gate {
	g := &gate{held: make(chan struct{}, 10), release: make(chan struct{})}
	g.status.Store(int32(status))
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.UserAgent(), "phoenix-monitor/") {
			g.held <- struct{}{}
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(int(g.status.Load()))
	}))
	t.Cleanup(func() {
		g.open()
		g.Close()
	})
	return g
}

// open lets every request held now and later through.
func (g *gate) open() { g.opened.Do(func() { close(g.release) }) }

// runProject writes project shop built by the run and released to
// staging (health check: its home page) and then production (health
// check: g), each by a deploy step and a health-check step, and returns
// its folder.
func runProject(t *testing.T, g *gate) string {
	t.Helper()
	dir := t.TempDir()
	yaml := `project: {name: shop}
environments:
  staging: {}
  production:
    health_checks: [{name: gate, url: "` + g.URL + `/"}]
pipeline:
  stages:
    - name: build
      steps:
        - {name: site, run: "mkdir -p dist && echo '<h1>v2</h1>' > dist/index.html"}
        - {name: artifact, uses: create-artifact, with: {dir: dist}}
`
	for i, env := range []string{"staging", "production"} {
		needs := "build"
		if i > 0 {
			needs = "staging"
		}
		yaml += "    - name: " + env + "\n      needs: [" + needs + "]\n      environment: " + env +
			"\n      steps:\n        - {name: deploy, uses: deploy}\n        - {name: health-check, uses: health-check, with: {attempts: 1}}\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// releaseToProduction deploys v1 to production as a server deploy
// (verified: it passes), then releases v2.0.0 of project to staging and
// production, and returns v1's deployment and the run.
func releaseToProduction(t *testing.T, a *App, h *verifyHooks, project string) (int64, *pipeline.Run) {
	t.Helper()
	v1 := deploySite(t, a, "production", "v1", "", goodSite)
	if r := recv(t, h.started, "the verification of v1"); r.Deployment.ID != v1 {
		t.Fatalf("verifying deployment %d, want %d", r.Deployment.ID, v1)
	}
	a.projects.wait()
	run, err := a.Pipeline.Release(context.Background(), pipeline.ReleaseRequest{Dir: project, Version: "v2.0.0", Actor: "admin",
		Environments: []string{"staging", "production"}})
	if err != nil {
		t.Fatal(err)
	}
	return v1, run
}

// interruptRun releases on a server over dir, and stops the server while
// the run's health check of production waits on g: the run is
// interrupted after its deploy step to production, before that health
// check finished; staging's passed. It returns v1 and the run's
// deployments to staging and production.
func interruptRun(t *testing.T, dir string, g *gate) (v1, staging, production int64) {
	t.Helper()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	v1, run := releaseToProduction(t, a, h, runProject(t, g))
	recv(t, g.held, "the run's health check of production")
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return v1, runDeployment(t, dir, run.ID, "staging", deploy.VerifyPassed), runDeployment(t, dir, run.ID, "production", deploy.VerifyByRun)
}

// runDeployment returns the active deployment of shop/env in the stopped
// server's data dir, checking that run made it and that its verification
// stands at want (deploy.VerifyByRun: the run's health checks did not
// pass; deploy.VerifyPassed: they did).
func runDeployment(t *testing.T, dir string, run int64, env, want string) int64 {
	t.Helper()
	ds, err := reopen(t, dir).Deployments(context.Background(), "shop", env, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deployments of %s: %+v, %v", env, ds, err)
	}
	d := ds[0]
	if !d.Active || d.Run != strconv.FormatInt(run, 10) || d.Verification != want {
		t.Fatalf("%s after the interrupted run: %+v", env, d)
	}
	return d.ID
}

// reverifyDetail is the detail of the deploy.reverify record of
// shop/production.
func reverifyDetail(t *testing.T, a *App) string {
	t.Helper()
	rs, err := a.Audit.Query(context.Background(), audit.Filter{Actor: verifyActor, Action: "deploy.reverify"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("deploy.reverify records: %+v, %v", rs, err)
	}
	return rs[0].Detail
}

// TestInterruptedRunIsVerifiedAtTheNextStart: a pipeline run stopped
// after its deploy step to production, during its health check there,
// leaves a broken deployment active that no one verified; the next start
// verifies it as one of its own (pending meanwhile), rolls it back and
// announces and audits it as any failed verification; the restored one,
// behind the same failing gate, fails its verification and stays. Staging, whose
// health check passed before the stop, is not verified again.
func TestInterruptedRunIsVerifiedAtTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := newGate(t, http.StatusServiceUnavailable)
	v1, staging, production := interruptRun(t, dir, g)

	b, events := reverifyAtStart(t, dir, production, func(b *App) {
		if st := statusOf(t, b, "production.shop"); st.Deployment != production || st.Verification != deploy.VerifyPending {
			t.Fatalf("GET /api/v1/status during the verification: %+v", st)
		}
	})
	wantReverifiedRolledBack(t, b, events, production, v1, "503", "deploy.failed") // the gate fails v1 too
	if d := deploymentOf(t, b.Deploy, "staging", staging); !d.Active || d.Verification != deploy.VerifyPassed {
		t.Fatalf("staging, checked by the run, after the start: %+v", d)
	}
	if d := reverifyDetail(t, b); !strings.Contains(d, "was interrupted before its step production/health-check succeeded (interrupted)") {
		t.Fatalf("deploy.reverify says %q", d)
	}
}

// TestInterruptedHealthyRunPassesAtTheNextStart: the same with a healthy
// release: verified at the start, it stays active and is announced live.
func TestInterruptedHealthyRunPassesAtTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := newGate(t, http.StatusOK)
	_, _, production := interruptRun(t, dir, g)

	h := newVerifyHooks(false)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	events := watchDeployEvents(b)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); !slices.Equal(ids, []int64{production}) {
		t.Fatalf("the start took over %v, want [%d]", ids, production)
	}
	wantReverifiedHealthy(t, b, events, production)

	// Verified once: the next start leaves it.
	b.Stop(context.Background())
	h = newVerifyHooks(false)
	startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); len(ids) != 0 {
		t.Fatalf("a second start verified %v again", ids)
	}
}

// TestFinishedRunIsNotVerifiedAtTheNextStart: a run that finished (its
// health checks passed) leaves its deployments to itself: a later start
// verifies none of them.
func TestFinishedRunIsNotVerifiedAtTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	g := newGate(t, http.StatusOK)
	g.open()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	_, run := releaseToProduction(t, a, h, runProject(t, g))
	if err := a.Pipeline.Logs(context.Background(), run.ID, pipeline.LogOptions{Follow: true}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if d, err := a.Pipeline.Get(context.Background(), run.ID); err != nil || d.Status != pipeline.Succeeded {
		t.Fatalf("the run: %+v, %v", d, err)
	}
	a.Stop(context.Background())
	production := runDeployment(t, dir, run.ID, "production", deploy.VerifyPassed)

	h = newVerifyHooks(false)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); len(ids) != 0 {
		t.Fatalf("the start verified %v", ids)
	}
	if d := deploymentOf(t, b.Deploy, "production", production); !d.Active || d.Verification != deploy.VerifyPassed || len(auditActions(t, b)) != 0 {
		t.Fatalf("the finished run's deployment after the start: %+v", d)
	}
}

const runCrashEnv = "PHOENIX_RUN_CRASH_CHILD"

// TestRunCrashChild is TestCrashDuringARunsHealthCheck's server: over
// the data dir and the project folder its parent names, it deploys v1,
// releases the project, says which run, and waits to be killed. Alone it
// skips.
func TestRunCrashChild(t *testing.T) {
	dir, project, ok := strings.Cut(os.Getenv(runCrashEnv), string(os.PathListSeparator))
	if !ok {
		t.Skip("a child of TestCrashDuringARunsHealthCheck")
	}
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	_, run := releaseToProduction(t, a, h, project)
	os.Stdout.WriteString("run " + strconv.FormatInt(run.ID, 10) + "\n")
	select {} // until SIGKILL
}

// TestCrashDuringARunsHealthCheck: a server killed (SIGKILL: no shutdown
// code runs, the run stays "running" in the database) during a run's
// health check of production; the next start marks the run interrupted,
// verifies its broken deployment and rolls it back.
func TestCrashDuringARunsHealthCheck(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	g := newGate(t, http.StatusServiceUnavailable)
	run := crashChild(t, root, "TestRunCrashChild", runCrashEnv+"="+dir+string(os.PathListSeparator)+runProject(t, g), "run ",
		func(int64) { recv(t, g.held, "the child's health check of production") })
	d, err := reopen(t, dir).Deployments(context.Background(), "shop", "production", 1)
	if err != nil || len(d) != 1 || d[0].Message != "pipeline run "+strconv.FormatInt(run, 10) {
		t.Fatalf("production after the crash: %+v, %v", d, err)
	}
	production := d[0].ID

	b := startAfterCrash(t, dir, -1, production)
	wantTakenBack(t, b, production)
	if r, err := b.Pipeline.Get(context.Background(), run); err != nil || r.Status != pipeline.Interrupted {
		t.Fatalf("the run after the start: %+v, %v", r, err)
	}
	if d := reverifyDetail(t, b); !strings.Contains(d, "production/health-check succeeded (interrupted)") {
		t.Fatalf("deploy.reverify says %q", d)
	}
}

// TestLeaderAdoptsAnInterruptedRunsDeployment: with replicas, a leader
// stopped during a run's health check of production leaves the run's
// deployment unverified; the next leader verifies it at once (no lease to
// wait out: no server was verifying it) and rolls it back. The run
// builds its artifact into the replicas' shared bucket.
func TestLeaderAdoptsAnInterruptedRunsDeployment(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	g := newGate(t, http.StatusServiceUnavailable)
	fh := newVerifyHooks(false)
	first := startHooked(t, rs.options(t, t.TempDir()), fh.set)
	leaderOf(t, first)
	nh := newVerifyHooks(false)
	next := startHooked(t, rs.options(t, t.TempDir()), nh.set)
	v1, run := releaseToProduction(t, first, fh, runProject(t, g))
	recv(t, g.held, "the run's health check of production")
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := recv(t, nh.started, "the next leader's verification")
	if r.Environment != "production" || r.Deployment.Message != "pipeline run "+strconv.FormatInt(run.ID, 10) {
		t.Fatalf("the next leader verifies %+v", r)
	}
	next.projects.wait()
	if got := activeID(t, next, "production"); got != v1 {
		t.Fatalf("active %d, want %d (rolled back)", got, v1)
	}
	if d := deploymentOf(t, next.Deploy, "production", r.Deployment.ID); d.Verification != deploy.VerifyFailed || d.Failure == "" {
		t.Fatalf("the run's broken deployment: %+v", d)
	}
}

// TestCancelledRunIsVerified: a run cancelled during its health check of
// production leaves a broken deployment live that its run will never
// check; the server, told the run ended, verifies it as its own at once
// (no restart), rolls it back and audits why.
func TestCancelledRunIsVerified(t *testing.T) {
	t.Parallel()
	g := newGate(t, http.StatusServiceUnavailable)
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: t.TempDir(), VerifySoak: -1, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	v1, run := releaseToProduction(t, a, h, runProject(t, g))
	recv(t, g.held, "the run's health check of production")
	events := watchDeployEvents(a)
	if err := a.Pipeline.Cancel(context.Background(), run.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	r := recv(t, h.started, "the server's verification of the cancelled run's deployment")
	if r.Environment != "production" || r.Deployment.Run != strconv.FormatInt(run.ID, 10) {
		t.Fatalf("the server verifies %+v", r)
	}
	a.projects.wait()
	a.Pipeline.Events().Wait()
	if got := activeID(t, a, "production"); got != v1 {
		t.Fatalf("active %d after the server's verification, want %d (rolled back)", got, v1)
	}
	if d := deploymentOf(t, a.Deploy, "production", r.Deployment.ID); d.Verification != deploy.VerifyFailed || !strings.Contains(d.Failure, "503") {
		t.Fatalf("the broken deployment after its verification: %+v", d)
	}
	// The run's own end says deploy.succeeded for staging and
	// deploy.failed for production; the server's rollback adds
	// deploy.rolled_back.
	if got := events.list(); !slices.Contains(got, "deploy.rolled_back") {
		t.Fatalf("events %v, want the rollback's", got)
	}
	if got := auditActions(t, a); !slices.Equal(got, []string{"deploy.reverify", "deploy.fail", "deploy.rollback"}) {
		t.Fatalf("audit records by %s: %v", verifyActor, got)
	}
	if d := reverifyDetail(t, a); !strings.Contains(d, "was cancelled before its step production/health-check succeeded (cancelled)") {
		t.Fatalf("deploy.reverify says %q", d)
	}
}
