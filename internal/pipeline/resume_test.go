package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/action"
)

// resumeYAML builds once (counting its runs in the project's "compiled"
// file), hands a file and an output to the production stage, which waits
// behind an approval gate (ship/approval).
const resumeYAML = `
project: {name: shop}
environments:
  production:
    protection: {approvals: 1}
pipeline:
  stages:
    - name: build
      steps:
        - name: compile
          run: echo ran >> compiled; echo built > "$PHOENIX_FILES/app.txt"; echo "tag=$PHOENIX_VERSION" >> "$PHOENIX_OUTPUT"
    - name: ship
      needs: [build]
      environment: production
      steps:
        - name: deploy
          run: test "$(cat "$PHOENIX_FILES/app.txt")" = built && echo "deploying ${{ steps.build/compile.outputs.tag }}"
`

// restart stops the fixture's service and starts another on its database
// and data dir, as a restart of the server does.
func (f *fixture) restart(edit func(*Options)) {
	f.t.Helper()
	if err := f.svc.Stop(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.svc = f.start(edit)
}

// stepsOf returns run id's recorded steps by id.
func (f *fixture) stepsOf(id int64) map[string]Step {
	f.t.Helper()
	d, err := f.svc.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]Step{}
	for _, st := range d.Steps {
		out[st.ID] = st
	}
	return out
}

// TestWaitingRunResumesAfterRestart: a run waiting for its approval when
// the server stops still waits after the next start, without asking
// again; approved then, it goes on from the gate: the build does not run
// again, its output and file reach the deploy, and the logs hold every
// step.
func TestWaitingRunResumesAfterRestart(t *testing.T) {
	n := &notes{}
	withNotes := func(o *Options) { o.Deps.Notifier = n }
	f := newFixture(t, withNotes)
	dir := f.project(resumeYAML)
	r := f.release(dir, "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	before := f.stepsOf(r.ID)

	f.restart(withNotes)
	after := f.stepsOf(r.ID)
	if d, _ := f.svc.Get(context.Background(), r.ID); d.Status != Waiting {
		t.Fatalf("after the restart the run is %s (%s), want waiting", d.Status, d.Message)
	}
	if gate := after["ship/approval"]; gate.Status != Waiting || !gate.Started.Equal(before["ship/approval"].Started) {
		t.Fatalf("the gate after the restart: %+v, before: %+v", gate, before["ship/approval"])
	}
	if b := after["build/compile"]; b.Status != Succeeded || b.Outputs["tag"] != "v1.0.0" || !b.Finished.Equal(before["build/compile"].Finished) {
		t.Fatalf("the build after the restart: %+v", b)
	}
	if err := f.svc.Approve(context.Background(), r.ID, "", "bob", "lgtm"); err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded {
		t.Fatalf("the resumed run %s: %s\n%s", d.Status, d.Message, f.log(r.ID, ""))
	}
	if out := f.log(r.ID, "ship/deploy"); !strings.Contains(out, "deploying v1.0.0") {
		t.Errorf("the deploy after the resume: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "compiled")); string(b) != "ran\n" {
		t.Errorf("the build ran %q, want once", b)
	}
	all := f.log(r.ID, "")
	for _, want := range []string{"ship/approval | [phoenix] waiting for 1 approval(s)", "ship/approval | [phoenix] the server stopped while the approval was pending",
		"ship/approval | [phoenix] still waiting after a restart", "ship/approval | [phoenix] approved by bob"} {
		if !strings.Contains(all, want) {
			t.Errorf("the logs lack %q:\n%s", want, all)
		}
	}
	if got := strings.Count(noteEvents(n), "approval.requested"); got != 1 {
		t.Errorf("approval.requested announced %d times, want once: %s", got, noteEvents(n))
	}
	if !f.audit.has("pipeline.run.resume") {
		t.Error("the resume is not audited")
	}
}

func noteEvents(n *notes) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, x := range n.ns {
		out = append(out, x.Event)
	}
	return strings.Join(out, ",")
}

// TestResumedApprovalTimesOutFromItsRequest: the approval timeout counts
// from the request, not from the resume: a gate whose time ran out while
// the server was down fails at once.
func TestResumedApprovalTimesOutFromItsRequest(t *testing.T) {
	clock := &setClock{now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	edit := func(o *Options) { o.Clock, o.ApprovalTimeout = clock, time.Hour }
	f := newFixture(t, edit)
	r := f.release(f.project(resumeYAML), "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	if err := f.svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(61 * time.Minute))
	f.svc = f.start(edit)
	d := f.wait(r.ID)
	if d.Status != Failed || !strings.Contains(d.Message, "approval timed out after 1h") || stepOf(d, "ship/deploy").Status != Skipped {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
}

// TestRunWithARunningStepIsInterrupted: a run that had a step running
// when its server stopped is interrupted at the next start, whether the
// stop was graceful (a parallel stage ran beside the waiting gate) or a
// crash (a step recorded running): what the step did cannot be assumed.
func TestRunWithARunningStepIsInterrupted(t *testing.T) {
	t.Run("graceful stop", func(t *testing.T) {
		f := newFixture(t, nil)
		dir := f.project(resumeYAML + "    - name: slow\n      steps:\n        - {name: sleep, run: echo started; sleep 300}\n")
		r := f.release(dir, "v1.0.0")
		f.waitStatus(r.ID, Waiting)
		waitLog(t, f, r.ID, "slow/sleep", "started")
		f.restart(nil)
		wantInterrupted(t, f, r.ID, "slow/sleep")
		if log := f.log(r.ID, "ship/approval"); !strings.Contains(log, "another step of the run ran; retry the run with phoenix retry") {
			t.Errorf("the gate's log does not say why it ended:\n%s", log)
		}
	})
	t.Run("crash", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.release(f.project(resumeYAML), "v1.0.0")
		f.waitStatus(r.ID, Waiting)
		if err := f.svc.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		// What a crash during the build leaves: the step recorded running.
		if _, err := f.db.ExecContext(context.Background(), `UPDATE pipeline_steps SET status = $1, finished_at = ''
			WHERE run_id = $2 AND step = 'build/compile'`, Running, r.ID); err != nil {
			t.Fatal(err)
		}
		f.svc = f.start(nil)
		wantInterrupted(t, f, r.ID, "build/compile")
	})
}

// wantInterrupted checks that run id is interrupted with step and its
// approval gate, and that approving it says to retry.
func wantInterrupted(t *testing.T, f *fixture, id int64, step string) {
	t.Helper()
	d := f.wait(id)
	if d.Status != Interrupted || stepOf(d, step).Status != Interrupted || stepOf(d, "ship/approval").Status != Interrupted {
		t.Fatalf("run %s (%s), %s %s, gate %s", d.Status, d.Message, step, stepOf(d, step).Status, stepOf(d, "ship/approval").Status)
	}
	if log := f.log(id, "ship/approval"); strings.Contains(log, "still waiting") {
		t.Errorf("the interrupted gate waited again:\n%s", log)
	}
	err := f.svc.Approve(context.Background(), id, "", "bob", "")
	if err == nil || !strings.Contains(err.Error(), "has already finished (interrupted)") {
		t.Fatalf("approving the interrupted run: %v", err)
	}
}

// failoverYAML builds an artifact, deploys it to staging, and to
// production behind an approval gate (production/approval).
const failoverYAML = `
project: {name: site}
environments:
  staging: {}
  production:
    protection: {approvals: 1}
pipeline:
  stages:
    - name: build
      steps:
        - {name: site, run: mkdir -p dist && echo "<h1>site</h1>" > dist/index.html}
        - {name: artifact, uses: create-artifact, with: {dir: dist}}
    - name: staging
      needs: [build]
      environment: staging
      steps:
        - {name: deploy, uses: deploy, with: {from: build/artifact}}
    - name: production
      needs: [staging]
      environment: production
      steps:
        - {name: deploy, uses: deploy, with: {from: build/artifact}}
`

// TestWaitingRunResumesOnAnotherReplica: the leader stops while a release
// waits for its production approval; the replica that leads next (its own
// data dir) resumes it, an approval given on the first one lets it go on,
// and the production deploy finds the artifact's manifest the first
// replica built; the earlier steps' logs are served by the new leader.
func TestWaitingRunResumesOnAnotherReplica(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, blobs, dsvc := deployService(t, dir)
	f := &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}
	deps := action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs}
	server := func(name string) *Service {
		svc, err := New(Options{DB: db, LogDir: filepath.Join(dir, name), Deps: deps, Grace: 100 * time.Millisecond,
			Runner: func() string { return "http://" + name }})
		if err != nil {
			t.Fatal(err)
		}
		svc.Open(ctx)
		t.Cleanup(func() { svc.Stop(ctx) })
		return svc
	}
	a, b := server("a"), server("b")
	stopA := lead(a)
	r, err := a.Release(ctx, ReleaseRequest{Dir: f.project(failoverYAML), Version: "v1.0.0", Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, r.ID, Waiting)
	stopA()
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil { // b is on another machine
		t.Fatal(err)
	}
	defer lead(b)()
	for !b.isLeading() {
		time.Sleep(time.Millisecond) // polling a condition, not timing it
	}
	if runner, err := a.Runner(ctx, r.ID); err != nil || runner != "http://b" {
		t.Fatalf("the resumed run's runner: %q %v", runner, err)
	}
	if err := a.Approve(ctx, r.ID, "", "bob", "lgtm"); err != nil {
		t.Fatal(err)
	}
	b.Poke(ctx) // what a's notification makes b do
	waitFor(t, a, r.ID, Succeeded)
	if deps, err := dsvc.Deployments(ctx, "site", "staging", 0); err != nil || len(deps) != 1 {
		t.Fatalf("staging deployments: %+v %v (want the one made before the failover)", deps, err)
	}
	if prod := activeOf(t, dsvc, "production"); prod == 0 {
		t.Fatal("nothing deployed to production")
	}
	if _, err := os.Stat(filepath.Join(dir, "b", itoa(r.ID), "files", "manifest.json")); err != nil {
		t.Errorf("the manifest was not restored on the new leader: %v", err)
	}
	var logs stringsBuilder
	if err := b.Logs(ctx, r.ID, LogOptions{}, &logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build/artifact | artifact sha256:", "staging/deploy | deployment 1 of v1.0.0 is live on staging",
		"production/approval | [phoenix] still waiting after a restart", "production/deploy | deployment 2 of v1.0.0 is live on production"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the new leader's logs lack %q:\n%s", want, logs.String())
		}
	}
}

// TestCancelAskedWhileStoppedCancelsTheResumedRun: a cancel asked while
// no server executes the waiting run (between two leaders) cancels it
// when it is resumed.
func TestCancelAskedWhileStoppedCancelsTheResumedRun(t *testing.T) {
	f := newFixture(t, nil)
	r := f.release(f.project(resumeYAML), "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	if err := f.svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Cancel(context.Background(), r.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	f.svc = f.start(nil)
	d := f.wait(r.ID)
	if d.Status != Cancelled || d.Message != "cancelled by carol" || stepOf(d, "ship/approval").Status != Cancelled {
		t.Fatalf("run %s (%s), gate %s", d.Status, d.Message, stepOf(d, "ship/approval").Status)
	}
}

// TestSeedReleaseResumesAtItsProductionGate: the default release pipeline
// (gates, build, tests, artifact, staging with its load test, approval)
// stopped at its production approval goes on after a restart with the
// deploy, health check and notification of production; nothing before the
// gate runs again.
func TestSeedReleaseResumesAtItsProductionGate(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<h1>Phoenix example</h1>"))
	}))
	defer site.Close()
	sd := startSeed(t, t.TempDir(), site.URL)
	f := sd.f
	r := f.release(sd.proj, "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	before := f.stepsOf(r.ID)
	f.restart(sd.edit)
	if err := f.svc.Approve(context.Background(), r.ID, "production", "bob", "ok"); err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded {
		t.Fatalf("the resumed release %s: %s\n%s", d.Status, d.Message, f.log(r.ID, ""))
	}
	for _, st := range d.Steps {
		if b := before[st.ID]; Finished(b.Status) && (st.Status != b.Status || !st.Finished.Equal(b.Finished)) {
			t.Errorf("%s ran again: %s at %s, before the restart %s at %s", st.ID, st.Status, st.Finished, b.Status, b.Finished)
		}
	}
	if deps, err := sd.dsvc.Deployments(context.Background(), "site", "staging", 0); err != nil || len(deps) != 1 {
		t.Errorf("staging deployments: %+v %v, want the one made before the restart", deps, err)
	}
	if stepOf(d, "health-check/production").Status != Succeeded || activeOf(t, sd.dsvc, "production") == 0 {
		t.Errorf("production after the resume: %+v", d.Steps)
	}
	if s := sd.notes.find("release.succeeded"); s == nil || s.Message != "site v1.0.0 is live on staging, production" {
		t.Errorf("notifications %s", noteEvents(sd.notes))
	}
}

// TestTransientServerLeavesWaitingRunsToTheNext: a command's in-process
// server (Transient) does not resume a waiting run, whose deploy it would
// cut short as the command ends: the run keeps waiting and its
// environment (a later release queues behind it); an approval given
// through it counts when the next lasting server resumes the run.
func TestTransientServerLeavesWaitingRunsToTheNext(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(resumeYAML)
	first := f.release(dir, "v1.0.0")
	f.waitStatus(first.ID, Waiting)
	f.restart(func(o *Options) { o.Transient = true })
	second := f.release(dir, "v1.1.0")
	if d, _ := f.svc.Get(context.Background(), second.ID); d.Status != Queued {
		t.Fatalf("a release to the held environment is %s, want queued", d.Status)
	}
	if err := f.svc.Approve(context.Background(), first.ID, "", "bob", ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.Get(context.Background(), first.ID); d.Status != Waiting || strings.Contains(f.log(first.ID, "ship/approval"), "still waiting") {
		t.Fatalf("the transient server took the run over: %s\n%s", d.Status, f.log(first.ID, "ship/approval"))
	}
	f.restart(nil)
	if d := f.wait(first.ID); d.Status != Succeeded {
		t.Fatalf("the first release after the restart: %s %s", d.Status, d.Message)
	}
	f.waitStatus(second.ID, Waiting)
}

// TestResumedRunMasksTheSecretsOfEarlierSteps: a secret a step before the
// gate was given stays masked in the steps after the resume, as it was
// before the restart (the masker is in memory: the resume resolves the
// finished steps' secrets again).
func TestResumedRunMasksTheSecretsOfEarlierSteps(t *testing.T) {
	const secret = "s3cret-t0ken-Qw7!"
	t.Setenv("PHX_TEST_BUILD_TOKEN", secret)
	f := newFixture(t, nil)
	yaml := strings.Replace(resumeYAML, "    - name: build\n", "    - name: build\n      secrets: [BUILD_TOKEN]\n", 1)
	yaml = strings.Replace(yaml, `echo built > "$PHOENIX_FILES/app.txt"`, `echo "built $BUILD_TOKEN" > "$PHOENIX_FILES/app.txt"`, 1)
	yaml = strings.Replace(yaml, `test "$(cat "$PHOENIX_FILES/app.txt")" = built && `, `cat "$PHOENIX_FILES/app.txt"; `, 1)
	r := f.release(f.project(yaml), "v1.0.0")
	f.waitStatus(r.ID, Waiting)
	f.restart(nil)
	if err := f.svc.Approve(context.Background(), r.ID, "", "bob", ""); err != nil {
		t.Fatal(err)
	}
	if d := f.wait(r.ID); d.Status != Succeeded {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
	if out := f.log(r.ID, "ship/deploy"); strings.Contains(out, secret) || !strings.Contains(out, "built ***") {
		t.Fatalf("the deploy's log after the resume: %q", out)
	}
}
