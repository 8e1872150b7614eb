package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

const pruneYAML = `
project: {name: shop}
environments: {staging: {}}
pipeline:
  stages:
    - {name: main, steps: [{name: say, run: echo "release $PHOENIX_VERSION"}]}
`

// pruneFixture is a fixture on a settable clock that stores logs in the
// database (as replicas do), keeping 2 runs per project for a day.
func pruneFixture(t *testing.T, inUse map[string]map[string]bool) (*fixture, *setClock) {
	clock := &setClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, func(o *Options) {
		o.Clock, o.Runner = clock, func() string { return "http://127.0.0.1:1" }
		// A waiting run must still wait when the test moves the clock a
		// day on: its approval times out long after that.
		o.ApprovalTimeout = 30 * 24 * time.Hour
		o.Retention = Retention{MaxAge: 24 * time.Hour, Keep: 2,
			InUse: func(context.Context) (map[string]map[string]bool, error) { return inUse, nil }}
	})
	return f, clock
}

func (f *fixture) exists(id int64) bool {
	f.t.Helper()
	_, err := f.svc.Get(context.Background(), id)
	if err != nil && usererr.KindOf(err) != usererr.NotFound {
		f.t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestPruneDropsOldRunsKeepsNewestUnfinishedAndDeployed: finished runs
// older than the retention beyond each project's newest Keep go with
// their steps, stored logs and folder; a run waiting for approval, one
// running elsewhere, a release a deployment uses and a small project's
// old runs stay; the prune is audited; a pruned run is a clear 404.
func TestPruneDropsOldRunsKeepsNewestUnfinishedAndDeployed(t *testing.T) {
	f, clock := pruneFixture(t, map[string]map[string]bool{"shop": {"1.0.2": true}})
	ctx := context.Background()
	waiting := f.release(f.project(approvalYAML), "0.9.0")
	f.waitStatus(waiting.ID, Waiting)
	dir := f.project(pruneYAML)
	var ids []int64
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4", "1.0.5"} {
		ids = append(ids, f.wait(f.release(dir, v).ID).ID)
	}
	blog := f.wait(f.release(f.project("project: {name: blog}\nenvironments: {staging: {}}\npipeline: {stages: [{name: a, steps: [{name: b, run: 'true'}]}]}\n"), "1.0.0").ID)
	if _, err := f.db.Exec(`UPDATE pipeline_runs SET status = 'running' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err) // as if another server executed it still
	}
	if st, err := f.svc.Prune(ctx); err != nil || st != (PruneStats{}) {
		t.Fatalf("runs of today pruned: %+v %v", st, err)
	}
	clock.Set(clock.Now().Add(25 * time.Hour))
	st, err := f.svc.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gone := []int64{ids[1], ids[3]} // 1.0.1 and 1.0.3: old, finished, beyond the newest 2, not deployed
	if st.Runs != 2 || st.Folders != 2 {
		t.Fatalf("pruned %+v, want 2 runs and their 2 folders", st)
	}
	for _, id := range gone {
		if f.exists(id) {
			t.Errorf("run %d survived", id)
		}
		if _, err := os.Stat(f.svc.runDir(id)); !os.IsNotExist(err) {
			t.Errorf("folder of run %d: %v", id, err)
		}
		for _, table := range []string{"pipeline_steps", "pipeline_step_logs", "pipeline_approvals"} {
			if n := f.count(`SELECT COUNT(*) FROM `+table+` WHERE run_id = $1`, id); n != 0 {
				t.Errorf("%s keeps %d row(s) of run %d", table, n, id)
			}
		}
		err := f.svc.Logs(ctx, id, LogOptions{}, io.Discard)
		if err == nil || usererr.KindOf(err) != usererr.NotFound {
			t.Errorf("logs of pruned run %d: %v, want not found", id, err)
		}
	}
	for _, id := range []int64{waiting.ID, ids[0], ids[2], ids[4], ids[5], blog.ID} {
		if !f.exists(id) {
			t.Errorf("run %d was pruned", id)
		}
	}
	if f.log(ids[5], "main/say") != "release 1.0.5\n" {
		t.Error("a kept run lost its log")
	}
	if d := f.audit.details("pipeline.prune"); len(d) != 1 || !strings.HasSuffix(d[0], "older than 24h beyond the newest 2 of each project") {
		t.Errorf("prune audited as %q, want one record, the retention written as people write it", d)
	}
	if d := f.audit.details("pipeline.run.create"); len(d) == 0 || d[len(d)-1] != "release 1.0.0 (release)" {
		t.Errorf("a release's run audited as %q, want \"release 1.0.0 (release)\"", d)
	}
	if runs, _ := f.svc.Runs(ctx, RunFilter{Project: "shop"}); len(runs) != 5 {
		t.Errorf("listing shows %d runs, want 5", len(runs))
	}
}

// TestPruneSweepsFoldersACrashLeft: rows deleted but the process died
// before the folders went: the next Prune removes them; entries not named
// by a run id stay. A negative MaxAge prunes nothing.
func TestPruneSweepsFoldersACrashLeft(t *testing.T) {
	f, clock := pruneFixture(t, nil)
	ctx := context.Background()
	dir := f.project(pruneYAML)
	var ids []int64
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2"} {
		ids = append(ids, f.wait(f.release(dir, v).ID).ID)
	}
	other := filepath.Join(f.svc.opts.LogDir, "go-1.0.0")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(48 * time.Hour))
	if n, err := f.svc.deleteRuns(ctx, []int64{ids[0]}); err != nil || n != 1 {
		t.Fatalf("deleted %d: %v", n, err) // the crash: rows gone, folder left
	}
	if _, err := os.Stat(f.svc.runDir(ids[0])); err != nil {
		t.Fatal(err)
	}
	if runs, err := f.svc.Runs(ctx, RunFilter{}); err != nil || len(runs) != 2 {
		t.Fatalf("listing with a stray folder: %d runs, %v", len(runs), err)
	}
	f.svc.opts.Retention.MaxAge = -1
	st, err := f.svc.Prune(ctx)
	if err != nil || st != (PruneStats{Folders: 1}) {
		t.Fatalf("prune with no age limit: %+v %v, want only the stray folder", st, err)
	}
	if _, err := os.Stat(f.svc.runDir(ids[0])); !os.IsNotExist(err) {
		t.Fatalf("stray folder: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("an entry not named by a run id was removed: %v", err)
	}
	if !f.exists(ids[1]) || !f.exists(ids[2]) {
		t.Fatal("MaxAge < 0 pruned a run")
	}
}

// TestPruneOnTheLeaderReplicasSweepTheirFolders: two servers share the
// database; a ran a run, then b leads and prunes it: the rows go, a's
// folder stays until a sweeps its own folders; b's run folders of kept
// runs stay.
func TestPruneOnTheLeaderReplicasSweepTheirFolders(t *testing.T) {
	ctx := context.Background()
	f, clock, a, b := twoReplicas(t)
	dir := f.project("version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\nworkflows:\n  nightly:\n" +
		"    triggers: [{event: deploy.succeeded, environment: production}]\n    steps:\n      - {name: say, run: echo ran}\n")
	start := func(leader *Service) int64 {
		stop := lead(leader)
		defer stop()
		r, err := leader.StartWorkflow(ctx, WorkflowRequest{Dir: dir, Workflow: "nightly", Actor: "t", Trigger: "manual"})
		if err != nil {
			t.Fatal(err)
		}
		f.svc = leader
		f.wait(r.ID)
		return r.ID
	}
	old := start(a)
	clock.Set(clock.Now().Add(100 * 24 * time.Hour))
	kept := start(b)
	b.opts.Retention = Retention{Keep: 1} // the defaults: 90 days, and one run kept
	if st, err := b.Prune(ctx); err != nil || st != (PruneStats{Runs: 1}) {
		t.Fatalf("the leader pruned %+v %v, want the old run's rows and none of its own folders", st, err)
	}
	if _, err := os.Stat(a.runDir(old)); err != nil {
		t.Fatalf("a's folder of the pruned run before a sweeps: %v", err)
	}
	if n, err := a.SweepFolders(ctx); err != nil || n != 1 {
		t.Fatalf("a swept %d folder(s): %v", n, err)
	}
	if _, err := os.Stat(a.runDir(old)); !os.IsNotExist(err) {
		t.Fatalf("a's folder of the pruned run: %v", err)
	}
	if _, err := os.Stat(b.runDir(kept)); err != nil {
		t.Fatalf("b's folder of the kept run: %v", err)
	}
}

// TestPruneKeepsTheLastSuccessfulRelease: failed releases after the last
// successful one do not push it out: a new tag is checked against it, so
// with it gone an older tag than the one released would pass.
func TestPruneKeepsTheLastSuccessfulRelease(t *testing.T) {
	f, clock := pruneFixture(t, nil)
	ctx := context.Background()
	dir := f.project(pruneYAML)
	var ids []int64
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2", "1.0.3"} {
		ids = append(ids, f.wait(f.release(dir, v).ID).ID)
	}
	for _, id := range ids[1:] {
		if _, err := f.db.Exec(`UPDATE pipeline_runs SET status = 'failed' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(clock.Now().Add(25 * time.Hour))
	if _, err := f.svc.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.exists(ids[0]) {
		t.Error("the last successful release was pruned")
	}
	if f.exists(ids[1]) {
		t.Error("an old failed release beyond the newest 2 survived")
	}
	if rs, err := f.svc.releases(ctx, "shop"); err != nil || len(rs) != 1 || rs[0].Version != "1.0.0" {
		t.Errorf("releases %+v %v, want 1.0.0", rs, err)
	}
}
