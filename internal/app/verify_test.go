package app

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/audit"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/store"
)

var (
	goodSite   = map[string]string{"index.html": "<h1>good</h1>"}
	noHomePage = map[string]string{"other.html": "no home page"} // GET / answers 404
)

// startHooked starts a server with o on loopback ports after hook set its
// test hooks, and stops it when the test ends.
func startHooked(t *testing.T, o Options, hook func(*App)) *App {
	t.Helper()
	o.Listen, o.EdgeListen = "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hook(a)
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })
	return a
}

// verifyHooks are a server's verification hooks as channels: started
// receives each verification as it begins, which then waits for proceed
// (nil: it goes on at once); resumed each pass of resumeVerifications.
type verifyHooks struct {
	started chan deploy.Release
	proceed chan struct{}
	resumed chan []int64
}

func newVerifyHooks(gated bool) *verifyHooks {
	h := &verifyHooks{started: make(chan deploy.Release, 10), resumed: make(chan []int64, 10)}
	if gated {
		h.proceed = make(chan struct{})
	}
	return h
}

func (h *verifyHooks) set(a *App) {
	a.verifyStarts = func(r deploy.Release) {
		h.started <- r
		if h.proceed != nil {
			<-h.proceed
		}
	}
	a.verifyResumed = func(ids []int64) {
		select {
		case h.resumed <- ids:
		default: // a replicas' leader passes every poll
		}
	}
}

// recv receives from ch, failing the test when nothing comes within a
// minute (a hook never called) instead of hanging until the test timeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("never: %s", what)
		panic("unreachable")
	}
}

// deploymentOf returns deployment id of shop/env.
func deploymentOf(t *testing.T, svc *deploy.Service, env string, id int64) deploy.Deployment {
	t.Helper()
	ds, err := svc.Deployments(context.Background(), "shop", env, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no deployment %d in shop/%s", id, env)
	return deploy.Deployment{}
}

// interruptVerification deploys v1 (a pipeline run's: the server does
// not verify it) and v2 (files) to production on a server over dir
// whose verification soaks an hour, and stops the server while it
// verifies v2: v2 is left active and pending verification.
func interruptVerification(t *testing.T, dir string, files map[string]string) (v1, v2 int64) {
	t.Helper()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: time.Hour, Proc: "-"}, h.set)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); len(ids) != 0 {
		t.Fatalf("a first start verified %v again", ids)
	}
	v1 = deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	v2 = deploySite(t, a, "production", "v2", "", files)
	if r := recv(t, h.started, "a verification"); r.Deployment.ID != v2 {
		t.Fatalf("verifying deployment %d, want %d", r.Deployment.ID, v2)
	}
	if err := a.Stop(context.Background()); err != nil { // cuts the hour-long soak short
		t.Fatal(err)
	}
	d := deploymentOf(t, reopen(t, dir), "production", v2)
	if !d.Active || d.Verification != deploy.VerifyPending || d.Failure != "" {
		t.Fatalf("after the interrupted verification: %+v", d)
	}
	return v1, v2
}

// reopen opens the deployments domain of a stopped server's data dir,
// to read what it left in the database.
func reopen(t *testing.T, dir string) *deploy.Service {
	t.Helper()
	db, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return deploy.New(deploy.Options{DB: db})
}

// statusOf returns env's report of GET /api/v1/status (what phoenix
// status shows).
func statusOf(t *testing.T, a *App, env string) api.EnvReport {
	t.Helper()
	tok, err := ReadToken(a.opts.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := client.New(a.APIURL(), tok).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Environment == env {
			return r
		}
	}
	t.Fatalf("no %s in the status: %+v", env, rs)
	return api.EnvReport{}
}

// deployEvents collects the deploy.* events the server publishes to
// workflows.
type deployEvents struct {
	mu    sync.Mutex
	names []string
}

func watchDeployEvents(a *App) *deployEvents {
	e := &deployEvents{}
	a.Pipeline.Events().Subscribe("deploy.*", "shop", "", func(_ context.Context, ev trigger.Event) {
		e.mu.Lock()
		e.names = append(e.names, ev.Name)
		e.mu.Unlock()
	})
	return e
}

func (e *deployEvents) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.names)
}

// auditActions lists the actions of the audit records of shop/production
// by phoenix-verify, oldest first.
func auditActions(t *testing.T, a *App) []string {
	t.Helper()
	rs, err := a.Audit.Query(context.Background(), audit.Filter{Actor: verifyActor})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if r.Target == "shop/production" {
			out = append(out, r.Action)
		}
	}
	return out
}

// TestInterruptedVerificationRollsBackAtTheNextStart: a server stopped
// while it verifies a broken deployment publishes nothing and leaves it
// active, pending verification; the next start verifies it again (the
// API shows it pending meanwhile), rolls it back, records it failed, and
// announces and audits it as any failed verification.
func TestInterruptedVerificationRollsBackAtTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	v1, v2 := interruptVerification(t, dir, noHomePage)

	b, events := reverifyAtStart(t, dir, v2, func(b *App) {
		if d := deploymentOf(t, b.Deploy, "production", v2); !d.Active || d.Verification != deploy.VerifyPending {
			t.Fatalf("during the verification again: %+v", d)
		}
		if st := statusOf(t, b, "production.shop"); st.Deployment != v2 || st.Verification != deploy.VerifyPending || st.VerificationAt == nil {
			t.Fatalf("GET /api/v1/status during the verification again: %+v", st)
		}
	})
	wantReverifiedRolledBack(t, b, events, v2, v1, "200", "deploy.succeeded")
}

// TestInterruptedVerificationPassesAtTheNextStart: a healthy deployment
// whose verification a stop cut short is verified at the next start,
// stays active and is announced live.
func TestInterruptedVerificationPassesAtTheNextStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, v2 := interruptVerification(t, dir, map[string]string{"index.html": "<h1>two</h1>"})

	b, events := reverifyAtStart(t, dir, v2, func(*App) {})
	wantReverifiedHealthy(t, b, events, v2)
}

// TestFinishedVerificationIsNotRepeated: a deployment whose verification
// ended (passed), and a pipeline run's (its run verifies it), are not
// verified again at the next start; nor is a pending verification
// younger than the lease when only expired ones are taken over (the
// replicas' leader).
func TestFinishedVerificationIsNotRepeated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	v1 := deploySite(t, a, "production", "v1", "", goodSite)
	recv(t, h.started, "a verification")
	a.projects.wait()
	run := deploySite(t, a, "staging", "v1", "pipeline run 1", goodSite)
	a.projects.wait()
	if d := deploymentOf(t, a.Deploy, "production", v1); d.Verification != deploy.VerifyPassed {
		t.Fatalf("after its verification: %+v", d)
	}
	if d := deploymentOf(t, a.Deploy, "staging", run); d.Verification != "" {
		t.Fatalf("a pipeline run's deployment: verification %q", d.Verification)
	}
	a.Stop(context.Background())

	h = newVerifyHooks(false)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: -1, Proc: "-"}, h.set)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); len(ids) != 0 {
		t.Fatalf("the start verified %v again", ids)
	}
	if len(h.started) != 0 || len(auditActions(t, b)) != 0 {
		t.Fatalf("a verification began at the start: %d, audit %v", len(h.started), auditActions(t, b))
	}
	if d := deploymentOf(t, b.Deploy, "production", v1); d.Verification != deploy.VerifyPassed {
		t.Fatalf("after the restart: %+v", d)
	}

	// A verification in progress (pending since a moment ago) is not
	// taken over by a pass that takes only those older than an hour.
	h.proceed = make(chan struct{})
	v2 := deploySite(t, b, "production", "v2", "", goodSite)
	recv(t, h.started, "a verification")
	if ids := b.reverify(context.Background(), time.Now().Add(-time.Hour)); len(ids) != 0 {
		t.Fatalf("took over the verification in progress of %v", ids)
	}
	close(h.proceed)
	b.projects.wait()
	if d := deploymentOf(t, b.Deploy, "production", v2); d.Verification != deploy.VerifyPassed {
		t.Fatalf("v2 after its verification: %+v", d)
	}
}

const verifyCrashEnv = "PHOENIX_VERIFY_CRASH_CHILD_DIR"

// TestVerifyCrashChild is TestCrashDuringVerification's server: it
// deploys a good v1 (a pipeline run's) and a broken v2, says which
// deployment it verifies, and waits to be killed. Alone it skips.
func TestVerifyCrashChild(t *testing.T) {
	dir := os.Getenv(verifyCrashEnv)
	if dir == "" {
		t.Skip("a child of TestCrashDuringVerification")
	}
	verifying := make(chan int64, 1)
	a := startHooked(t, Options{DataDir: dir, VerifySoak: time.Hour, Proc: "-"}, func(a *App) {
		a.verifyStarts = func(r deploy.Release) { verifying <- r.Deployment.ID }
	})
	deploySite(t, a, "production", "v1", "pipeline run 1", goodSite)
	deploySite(t, a, "production", "v2", "", noHomePage)
	os.Stdout.WriteString("verifying " + strconv.FormatInt(recv(t, verifying, "the verification of v2"), 10) + "\n")
	select {} // until SIGKILL
}

// crashChild runs test, a server in a child of this test binary, with
// env (NAME=VALUE) and its temp dirs in root/tmp (so they go with root,
// and outlive the child), reads the number it prints after prefix on a
// line of its own, runs before with it (when set) and kills the child
// with SIGKILL: no shutdown code runs. It returns the number.
func crashChild(t *testing.T, root, test, env, prefix string, before func(n int64)) int64 {
	t.Helper()
	tmp := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env, "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var n int64
	for sc := bufio.NewScanner(stdout); n == 0 && sc.Scan(); {
		if s, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			n, _ = strconv.ParseInt(s, 10, 64)
		}
	}
	if n != 0 && before != nil {
		before(n)
	}
	cmd.Process.Kill()
	go io.Copy(io.Discard, stdout)
	cmd.Wait()
	if n == 0 {
		t.Fatalf("the child %s never printed %q", test, prefix+"N")
	}
	return n
}

// TestCrashDuringVerification: a server killed (SIGKILL: no shutdown
// code runs) while it verifies a broken deployment leaves it pending in
// the database; the next start verifies it again and rolls it back.
func TestCrashDuringVerification(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	v2 := crashChild(t, root, "TestVerifyCrashChild", verifyCrashEnv+"="+dir, "verifying ", nil)

	b := startAfterCrash(t, dir, 200*time.Millisecond, v2)
	wantTakenBack(t, b, v2)
}

// startAfterCrash starts a server on dir (verifications soaking soak)
// and checks that its first pass of resumeVerifications took over
// exactly deployment id.
func startAfterCrash(t *testing.T, dir string, soak time.Duration, id int64) *App {
	t.Helper()
	h := newVerifyHooks(false)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: soak, Proc: "-"}, h.set)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); !slices.Equal(ids, []int64{id}) {
		t.Fatalf("the start after the crash took over %v, want [%d]", ids, id)
	}
	return b
}

// wantTakenBack waits for b's verifications and checks that the broken
// deployment id of production failed its verification and no longer
// serves.
func wantTakenBack(t *testing.T, b *App, id int64) {
	t.Helper()
	b.projects.wait()
	if got := activeID(t, b, "production"); got == id {
		t.Fatalf("the broken deployment %d is still active after the start", id)
	}
	if d := deploymentOf(t, b.Deploy, "production", id); d.Verification != deploy.VerifyFailed || d.Failure == "" {
		t.Fatalf("the broken deployment after the start: %+v", d)
	}
}

// TestLeaderTakesOverAnAbandonedVerification: with replicas, a replica
// stopped while it verifies a broken deployment leaves it pending; the
// leader takes the verification over once its lease has passed (the
// replica might still be verifying before), and rolls the deployment
// back.
func TestLeaderTakesOverAnAbandonedVerification(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	lease := func(a *App) { a.verifyLease = 2 * time.Second }
	lh := newVerifyHooks(false)
	leader := startHooked(t, rs.options(t, t.TempDir()), func(a *App) { lh.set(a); lease(a) })
	leaderOf(t, leader)
	fh := newVerifyHooks(false)
	fo := rs.options(t, t.TempDir())
	fo.VerifySoak = time.Hour
	follower := startHooked(t, fo, func(a *App) { fh.set(a); lease(a) })
	v1 := deploySite(t, follower, "production", "v1", "pipeline run 1", goodSite)
	v2 := deploySite(t, follower, "production", "v2", "", noHomePage)
	if r := recv(t, fh.started, "the follower's verification"); r.Deployment.ID != v2 {
		t.Fatalf("the follower verifies %d, want %d", r.Deployment.ID, v2)
	}
	if err := follower.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, lh.started, "the leader's verification"); r.Deployment.ID != v2 {
		t.Fatalf("the leader verifies %d, want %d", r.Deployment.ID, v2)
	}
	leader.projects.wait()
	if got := activeID(t, leader, "production"); got != v1 {
		t.Fatalf("active %d, want %d (rolled back)", got, v1)
	}
	if d := deploymentOf(t, leader.Deploy, "production", v2); d.Verification != deploy.VerifyFailed || d.Failure == "" {
		t.Fatalf("the broken deployment: %+v", d)
	}
	if got := auditActions(t, leader); !slices.Equal(got, []string{"deploy.reverify", "deploy.fail", "deploy.rollback"}) {
		t.Fatalf("audit records by %s: %v", verifyActor, got)
	}
}

// reverifyAtStart starts a server over dir whose verifications wait at
// their start; it checks that the one it verifies is deployment id, runs
// during while it waits, lets it go on and checks that the start took
// over exactly id. It returns the server and its deploy events from then.
func reverifyAtStart(t *testing.T, dir string, id int64, during func(*App)) (*App, *deployEvents) {
	t.Helper()
	h := newVerifyHooks(true)
	b := startHooked(t, Options{DataDir: dir, VerifySoak: 200 * time.Millisecond, Proc: "-"}, h.set)
	if r := recv(t, h.started, "a verification"); r.Deployment.ID != id {
		t.Fatalf("the start verifies deployment %d, want %d", r.Deployment.ID, id)
	}
	during(b)
	events := watchDeployEvents(b)
	close(h.proceed)
	if ids := recv(t, h.resumed, "a pass of resumeVerifications"); !slices.Equal(ids, []int64{id}) {
		t.Fatalf("the start took over %v, want [%d]", ids, id)
	}
	return b, events
}

// wantReverifiedRolledBack waits for b's verifications and checks that
// deployment id of production failed its verification again at the start
// (its failure names why) and was rolled back to back: recorded failed,
// announced as deploy.rolled_back and audited as reverify, fail, rollback;
// then back's own verification (the restored release is verified too)
// announced restored (deploy.succeeded, or deploy.failed with no further
// rollback).
func wantReverifiedRolledBack(t *testing.T, b *App, events *deployEvents, id, back int64, why, restored string) {
	t.Helper()
	b.projects.wait()
	b.Pipeline.Events().Wait()
	if got := activeID(t, b, "production"); got != back {
		t.Fatalf("active %d after the verification again, want %d (rolled back)", got, back)
	}
	if d := deploymentOf(t, b.Deploy, "production", id); d.Verification != deploy.VerifyFailed ||
		!strings.Contains(d.Failure, why) || d.Status != deploy.StatusFailed {
		t.Fatalf("the broken deployment after its verification: %+v", d)
	}
	if got := events.list(); !slices.Equal(got, []string{"deploy.rolled_back", restored}) {
		t.Fatalf("events %v, want the rollback's, then %s (the restored release's verification)", got, restored)
	}
	if got := auditActions(t, b); !slices.Equal(got, []string{"deploy.reverify", "deploy.fail", "deploy.rollback"}) {
		t.Fatalf("audit records by %s: %v", verifyActor, got)
	}
}

// wantReverifiedHealthy waits for b's verifications and checks that
// deployment id of production passed its verification again at the
// start: still active, recorded as passed, announced as deploy.succeeded,
// and audited as one deploy.reverify.
func wantReverifiedHealthy(t *testing.T, b *App, events *deployEvents, id int64) {
	t.Helper()
	b.projects.wait()
	b.Pipeline.Events().Wait()
	if got := activeID(t, b, "production"); got != id {
		t.Fatalf("a healthy deployment was rolled back: active %d, want %d", got, id)
	}
	if d := deploymentOf(t, b.Deploy, "production", id); d.Verification != deploy.VerifyPassed || d.Failure != "" {
		t.Fatalf("after its verification: %+v", d)
	}
	if got := events.list(); !slices.Equal(got, []string{"deploy.succeeded"}) {
		t.Fatalf("events %v, want deploy.succeeded", got)
	}
	if got := auditActions(t, b); !slices.Equal(got, []string{"deploy.reverify"}) {
		t.Fatalf("audit records by %s: %v", verifyActor, got)
	}
}

// TestARunsMessageDoesNotSkipVerification: a deployment through the API
// whose message reads like a pipeline run's ("pipeline run 7") is
// verified by the server like any other: only the pipeline's deploy step
// names a run (deploy.FinalizeOptions.Run), and a message is anyone's to
// write. A run's own deployment is left to its health-check steps.
func TestARunsMessageDoesNotSkipVerification(t *testing.T) {
	t.Parallel()
	h := newVerifyHooks(false)
	a := startHooked(t, Options{DataDir: t.TempDir(), VerifySoak: time.Hour, Proc: "-"}, h.set)
	recv(t, h.resumed, "a pass of resumeVerifications")
	run := deploySite(t, a, "staging", "v1", "pipeline run 1", goodSite)
	if d := deploymentOf(t, a.Deploy, "staging", run); d.Verification != "" {
		t.Fatalf("a run's deployment: verification %q, want none (its health check verifies it)", d.Verification)
	}
	id := deploySite(t, a, "production", "v2", "", goodSite) // through the API ...
	if r := recv(t, h.started, "a verification"); r.Deployment.ID != id {
		t.Fatalf("verifying deployment %d, want %d", r.Deployment.ID, id)
	}
	fake := deployAs(t, a, "staging", "v3", "pipeline run 7", goodSite, false, "") // ... with a run's message
	if d := deploymentOf(t, a.Deploy, "staging", fake); d.Verification != deploy.VerifyPending {
		t.Fatalf("deployed through the API as %q: verification %q, want %q", d.Message, d.Verification, deploy.VerifyPending)
	}
	if r := recv(t, h.started, "the verification of the deployment with a run's message"); r.Deployment.ID != fake {
		t.Fatalf("verifying deployment %d, want %d", r.Deployment.ID, fake)
	}
}
