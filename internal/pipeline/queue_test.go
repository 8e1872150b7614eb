package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// gateYAML has a step that waits until the file named by $GATE exists.
const gateYAML = `
project: {name: shop}
environments: {staging: {}, production: {}}
pipeline:
  stages:
    - name: main
      steps:
        - name: hold
          run: |
            echo "holding $PHOENIX_VERSION"
            while [ ! -f "$PHOENIX_FILES/../../go-$PHOENIX_VERSION" ]; do sleep 0.02; done
`

func (f *fixture) open(id int64, version string) {
	f.t.Helper()
	path := filepath.Join(f.svc.opts.LogDir, "go-"+version)
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func TestOneReleasePerEnvironmentOthersQueue(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(gateYAML)
	a := f.release(dir, "1.0.0", "production")
	waitLog(t, f, a.ID, "main/hold", "holding 1.0.0")
	b := f.release(dir, "1.1.0", "production")
	c := f.release(dir, "1.2.0", "staging")
	waitLog(t, f, c.ID, "main/hold", "holding 1.2.0") // another environment runs at once
	if d, _ := f.svc.Get(context.Background(), b.ID); d.Status != Queued {
		t.Fatalf("second production release is %s, want queued", d.Status)
	}
	f.open(a.ID, "1.0.0")
	if d := f.wait(a.ID); d.Status != Succeeded {
		t.Fatalf("first: %s %s", d.Status, d.Message)
	}
	waitLog(t, f, b.ID, "main/hold", "holding 1.1.0") // dequeued, not cancelled
	f.open(b.ID, "1.1.0")
	f.open(c.ID, "1.2.0")
	for _, id := range []int64{b.ID, c.ID} {
		if d := f.wait(id); d.Status != Succeeded {
			t.Fatalf("run %d: %s %s", id, d.Status, d.Message)
		}
	}
	da, _ := f.svc.Get(context.Background(), a.ID)
	db, _ := f.svc.Get(context.Background(), b.ID)
	if db.Started.Before(da.Finished) {
		t.Errorf("queued release started %s before the first finished %s", db.Started, da.Finished)
	}
}

func TestCancelQueuedRun(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(gateYAML)
	a := f.release(dir, "1.0.0", "production")
	b := f.release(dir, "1.1.0", "production")
	if err := f.svc.Cancel(context.Background(), b.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	f.open(a.ID, "1.0.0")
	f.wait(a.ID)
	if d := f.wait(b.ID); d.Status != Cancelled {
		t.Fatalf("queued run is %s", d.Status)
	}
	// A finished run cannot be cancelled (nor approved) again.
	want := fmt.Sprintf("run %d has already finished (cancelled)", b.ID)
	if err := f.svc.Cancel(context.Background(), b.ID, "bob"); err == nil || err.Error() != want || usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("cancel of a finished run: %v", err)
	}
	if err := f.svc.Approve(context.Background(), b.ID, "production", "bob", ""); err == nil || err.Error() != want {
		t.Fatalf("approval of a finished run: %v", err)
	}
}

func TestRestartMarksInterruptedAndRetryRuns(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(gateYAML)
	a := f.release(dir, "1.0.0", "production")
	waitLog(t, f, a.ID, "main/hold", "holding")
	b := f.release(dir, "1.1.0", "production") // queued behind a
	if err := f.svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A crash leaves "running" rows behind; simulate one on a third run.
	c := f.release2(dir, "1.2.0")
	f.db.ExecContext(context.Background(), `UPDATE pipeline_runs SET status = 'running' WHERE id = $1`, c)
	f.db.ExecContext(context.Background(), `UPDATE pipeline_steps SET status = 'running' WHERE run_id = $1`, c)

	f.svc = f.start(nil) // the next server process
	for _, id := range []int64{a.ID, c} {
		d, err := f.svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != Interrupted || stepOf(d, "main/hold").Status != Interrupted {
			t.Fatalf("run %d after restart: %s, step %s", id, d.Status, stepOf(d, "main/hold").Status)
		}
	}
	// Approving an interrupted run says what to do instead.
	err := f.svc.Approve(context.Background(), a.ID, "production", "bob", "")
	var ue *usererr.Error
	if !errors.As(err, &ue) || ue.Kind != usererr.Conflict || !strings.Contains(ue.Hint, fmt.Sprintf("phoenix retry %d", a.ID)) {
		t.Fatalf("approval of an interrupted run: %v", err)
	}
	waitLog(t, f, b.ID, "main/hold", "holding 1.1.0") // the queue survived the restart
	f.open(b.ID, "1.1.0")
	if d := f.wait(b.ID); d.Status != Succeeded {
		t.Fatalf("queued run after restart: %s", d.Status)
	}
	r, err := f.svc.Retry(context.Background(), a.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.open(r.ID, "1.0.0")
	if d := f.wait(r.ID); d.Status != Succeeded || d.RetryOf != a.ID || d.Version != "1.0.0" {
		t.Fatalf("retry: %+v", d.Run)
	}
}

// release2 records a run the way a crashed server left it: copied from the
// first run's plan, straight into the database.
func (f *fixture) release2(dir, version string) int64 {
	f.t.Helper()
	ctx := context.Background()
	var id int64
	err := f.db.QueryRowContext(ctx, `INSERT INTO pipeline_runs (project, kind, version, dir, plan, status, created_at)
		SELECT project, kind, $1, $2, plan, 'queued', created_at FROM pipeline_runs ORDER BY id LIMIT 1 RETURNING id`, version, dir).Scan(&id)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.ExecContext(ctx, `INSERT INTO pipeline_steps (run_id, step, position, status)
		VALUES ($1, 'main/hold', 0, 'pending')`, id); err != nil {
		f.t.Fatal(err)
	}
	return id
}

const approvalYAML = `
project: {name: shop}
environments:
  production:
    protection: {approvals: 2, approvers: [admin]}
pipeline:
  stages:
    - name: ship
      environment: production
      steps:
        - {name: deploy, run: echo "approved deploy of $PHOENIX_VERSION"}
`

func TestApprovalsByOtherUsers(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(approvalYAML)
	r := f.release(dir, "2.0.0")
	f.waitStatus(r.ID, Waiting)
	ctx := context.Background()
	if err := f.svc.Approve(ctx, r.ID, "", "alice", "mine"); err == nil {
		t.Fatal("the releaser approved their own release")
	}
	if err := f.svc.Approve(ctx, r.ID, "", "bob", "lgtm"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Approve(ctx, r.ID, "", "bob", "again"); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.svc.Get(ctx, r.ID); d.Status != Waiting || stepOf(d, "ship/deploy").Status != Pending {
		t.Fatalf("one distinct approval let it through: %s", d.Status)
	}
	if err := f.svc.Approve(ctx, r.ID, "production", "carol", ""); err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded || len(d.Approvals) != 2 {
		t.Fatalf("run %s, approvals %+v", d.Status, d.Approvals)
	}
	if !f.audit.has("pipeline.approve") {
		t.Error("approval not audited")
	}
}

// TestApprovalsInTimeOrderWithinASecond: approvals are listed in the
// order given. Their times are stored as RFC3339Nano text, which drops
// trailing zeros, so SQL's text order put one given on a whole second
// after one given half a second later ('…:00Z' > '…:00.5Z').
func TestApprovalsInTimeOrderWithinASecond(t *testing.T) {
	f := newFixture(t, nil)
	r := f.release(f.project(approvalYAML), "2.0.0")
	f.waitStatus(r.ID, Waiting)
	ctx := context.Background()
	for actor, at := range map[string]string{"amy": "2026-11-27T10:00:00Z", "zed": "2026-11-27T10:00:00.5Z"} {
		if _, err := f.db.ExecContext(ctx, `INSERT INTO pipeline_approvals (run_id, environment, actor, decision, at)
			VALUES ($1, 'production', $2, 'approve', $3)`, r.ID, actor, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := f.svc.approvals(ctx, r.ID)
	if err != nil || len(got) != 2 || got[0].Actor != "amy" || got[1].Actor != "zed" {
		t.Fatalf("approvals %+v, %v; want amy's (10:00:00) before zed's (10:00:00.5)", got, err)
	}
}

func TestRejectAndTimeoutFailTheRun(t *testing.T) {
	t.Run("reject with reason", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.release(f.project(approvalYAML), "2.0.0")
		f.waitStatus(r.ID, Waiting)
		if err := f.svc.Reject(context.Background(), r.ID, "", "bob", ""); err == nil {
			t.Fatal("rejection without reason accepted")
		}
		if err := f.svc.Reject(context.Background(), r.ID, "", "bob", "breaks checkout"); err != nil {
			t.Fatal(err)
		}
		d := f.wait(r.ID)
		if d.Status != Failed || !strings.Contains(d.Message, "breaks checkout") || stepOf(d, "ship/deploy").Status != Skipped {
			t.Fatalf("%s: %s", d.Status, d.Message)
		}
	})
	t.Run("the releaser withdraws their release", func(t *testing.T) {
		f := newFixture(t, nil)
		r := f.release(f.project(approvalYAML), "2.0.0")
		f.waitStatus(r.ID, Waiting)
		if err := f.svc.Reject(context.Background(), r.ID, "", "alice", "wrong build"); err != nil {
			t.Fatalf("the releaser could not reject their own release: %v", err)
		}
		if d := f.wait(r.ID); d.Status != Failed || !strings.Contains(d.Message, "wrong build") {
			t.Fatalf("%s: %s", d.Status, d.Message)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f := newFixture(t, func(o *Options) { o.ApprovalTimeout = 50 * time.Millisecond })
		r := f.release(f.project(approvalYAML), "2.0.0")
		d := f.wait(r.ID)
		if d.Status != Failed || !strings.Contains(d.Message, "approval timed out") {
			t.Fatalf("%s: %s", d.Status, d.Message)
		}
	})
	t.Run("approver role checked", func(t *testing.T) {
		f := newFixture(t, func(o *Options) {
			o.CanApprove = func(_ context.Context, actor, env string, approvers []string) bool { return actor == "admin-ann" }
		})
		r := f.release(f.project(approvalYAML), "2.0.0")
		f.waitStatus(r.ID, Waiting)
		if err := f.svc.Approve(context.Background(), r.ID, "", "bob", ""); err == nil {
			t.Fatal("a user without the approver role approved")
		}
		err := f.svc.Reject(context.Background(), r.ID, "", "alice", "withdrawn")
		if err == nil || !strings.Contains(usererr.HintOf(err), fmt.Sprintf("phoenix cancel %d", r.ID)) {
			t.Fatalf("the releaser without the approver role rejected, or was not told to cancel: %v (hint %q)", err, usererr.HintOf(err))
		}
		f.svc.Cancel(context.Background(), r.ID, "alice")
		f.wait(r.ID)
	})
}

// TestReleaseCannotLowerItsApprovals: a release whose phoenix.yaml asks
// for no approval still waits for the two the server's environment
// requires, and goes on only when two others approved.
func TestReleaseCannotLowerItsApprovals(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.MinApprovals = func(_ context.Context, project, env string) (int, error) {
			if project == "shop" && env == "production" {
				return 2, nil
			}
			return 0, nil
		}
	})
	noGate := strings.Replace(approvalYAML, "protection: {approvals: 2, approvers: [admin]}", "protection: {approvals: 0}", 1)
	r := f.release(f.project(noGate), "2.0.1")
	f.waitStatus(r.ID, Waiting)
	ctx := context.Background()
	d, _ := f.svc.Get(ctx, r.ID)
	if !strings.Contains(d.Message, "waiting for 2 approval(s) to deploy to production") {
		t.Fatalf("run waits with %q", d.Message)
	}
	for _, who := range []string{"bob", "carol"} {
		if err := f.svc.Approve(ctx, r.ID, "production", who, ""); err != nil {
			t.Fatal(err)
		}
	}
	if d := f.wait(r.ID); d.Status != Succeeded {
		t.Fatalf("run %s: %s", d.Status, d.Message)
	}
}

// TestPreflightRefusesARelease: a release whose plan the Preflight hook
// refuses (the server: it cannot sign) fails with the hook's error before
// it is queued: no run, so no step runs and nothing alerts.
func TestPreflightRefusesARelease(t *testing.T) {
	var steps int
	f := newFixture(t, func(o *Options) {
		o.Preflight = func(_ context.Context, plan *spec.Plan) error {
			steps = len(plan.Steps)
			return usererr.New(usererr.Unavailable, "cannot sign")
		}
	})
	ctx := context.Background()
	_, err := f.svc.Release(ctx, ReleaseRequest{Dir: f.project(approvalYAML), Version: "3.0.0", Actor: "alice"})
	if usererr.KindOf(err) != usererr.Unavailable || err.Error() != "cannot sign" || steps == 0 {
		t.Fatalf("release: %v (the hook saw %d steps)", err, steps)
	}
	if runs, err := f.svc.Runs(ctx, RunFilter{}); err != nil || len(runs) != 0 {
		t.Fatalf("runs after a refused release: %v %v", runs, err)
	}
}

// TestQueuedRunSaysWhatItWaitsFor: a release queued behind another said
// nothing (no message in phoenix runs, nothing from a following phoenix
// release) however long it waited, typically behind a release held at
// production's approval gate, which holds staging too. Its message says
// which run holds which environment, or which queued run goes first, and
// is gone once it starts.
func TestQueuedRunSaysWhatItWaitsFor(t *testing.T) {
	f := newFixture(t, nil)
	dir := f.project(gateYAML)
	ctx := context.Background()
	a := f.release(dir, "1.0.0", "staging", "production")
	waitLog(t, f, a.ID, "main/hold", "holding 1.0.0")
	b := f.release(dir, "1.1.0", "production")
	c := f.release(dir, "1.2.0", "staging", "production")
	for id, want := range map[int64]string{
		b.ID: fmt.Sprintf("queued: environment shop/production is held by run %d", a.ID),
		c.ID: fmt.Sprintf("queued: environment shop/staging is held by run %d", a.ID),
	} {
		if d, _ := f.svc.Get(ctx, id); d.Status != Queued || d.Message != want {
			t.Errorf("run %d: %s %q, want queued %q", id, d.Status, d.Message, want)
		}
	}
	f.open(a.ID, "1.0.0")
	waitLog(t, f, b.ID, "main/hold", "holding 1.1.0")
	f.svc.mu.Lock() // the dispatch that started b, under this lock, has noted c too
	d, _ := f.svc.Get(ctx, c.ID)
	f.svc.mu.Unlock()
	want := fmt.Sprintf("queued: environment shop/production is held by run %d", b.ID)
	if d.Status != Queued || d.Message != want {
		t.Errorf("run %d after run %d: %s %q, want queued %q", c.ID, a.ID, d.Status, d.Message, want)
	}
	if d, _ := f.svc.Get(ctx, b.ID); strings.HasPrefix(d.Message, "queued") {
		t.Errorf("run %d started and still says %q", b.ID, d.Message)
	}
	f.open(b.ID, "1.1.0")
	f.open(c.ID, "1.2.0")
	if d := f.wait(c.ID); d.Status != Succeeded || d.Message != "" {
		t.Fatalf("run %d: %s %q", c.ID, d.Status, d.Message)
	}
}
