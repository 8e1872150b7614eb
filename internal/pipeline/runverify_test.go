package pipeline

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/trigger"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestPromotionWaitsForTheRunsHealthCheck: a run's deployment counts for
// promote_from only once the run's health checks of its environment
// passed. While production's health check is held, an environment that
// promotes from production refuses production's artifact, saying which
// run is still checking it; once the check passes the deployment is
// recorded verified and the same artifact is taken. (Before, a run's
// deployment counted the moment it was made: an artifact could be
// deployed by hand past a health check that then failed.)
func TestPromotionWaitsForTheRunsHealthCheck(t *testing.T) {
	site := newHeldSite(t)
	f, dsvc, r := startHeld(t, site)
	ctx := context.Background()
	run := strconv.FormatInt(r.ID, 10)
	newest := func(env string) deploy.Deployment {
		t.Helper()
		ds, err := dsvc.Deployments(ctx, "site", env, 1)
		if err != nil || len(ds) != 1 {
			t.Fatalf("%s: %+v, %v", env, ds, err)
		}
		return ds[0]
	}
	if s := newest("staging"); s.Verification != deploy.VerifyPassed || s.Run != run {
		t.Fatalf("staging, its health check passed: verification %q, run %q", s.Verification, s.Run)
	}
	prod := newest("production")
	if prod.Verification != deploy.VerifyByRun || prod.Run != run {
		t.Fatalf("production, its health check held: verification %q, run %q", prod.Verification, prod.Run)
	}
	if err := dsvc.EnsureEnvironment(ctx, "site", deploy.EnvSpec{Name: "dr", PromoteFrom: "production"}); err != nil {
		t.Fatal(err)
	}
	m, err := dsvc.Manifest(ctx, prod.Artifact)
	if err != nil {
		t.Fatal(err)
	}
	canon, _ := m.Canonical()
	byHand := func() (*action.DeployResult, error) {
		return f.svc.opts.Deps.Deployer.Deploy(ctx, action.DeployRequest{Project: "site", Environment: "dr", Manifest: canon,
			Actor: "bob", Message: "by hand"})
	}
	_, err = byHand()
	want := "is still being health-checked on production by pipeline run " + run + " (deployment " + strconv.FormatInt(prod.ID, 10) + ")"
	if usererr.KindOf(err) != usererr.Conflict || !strings.Contains(err.Error(), want) {
		t.Fatalf("deploy to dr during production's health check: %v\nwant a conflict saying %q", err, want)
	}

	site.let()
	if d := f.wait(r.ID); d.Status != Succeeded {
		t.Fatalf("the run: %s %s\n%s", d.Status, d.Message, f.log(r.ID, ""))
	}
	if p := newest("production"); p.ID != prod.ID || p.Verification != deploy.VerifyPassed {
		t.Fatalf("production after its health check passed: %+v", p)
	}
	if log := f.log(r.ID, "production/health-check"); !strings.Contains(log,
		"production: deployment "+strconv.FormatInt(prod.ID, 10)+" passed this run's health checks: verified") {
		t.Errorf("the health check's log does not say it verified the deployment:\n%s", log)
	}
	if _, err := byHand(); err != nil {
		t.Fatalf("deploy to dr once production's health check passed: %v", err)
	}
}

// TestHealthCheckOfACancelledRun: a run cancelled during production's
// health check leaves production's deployment unverified (the server then
// verifies it), not staging's, whose check passed.
func TestHealthCheckOfACancelledRun(t *testing.T) {
	f, _, r := startHeld(t, newHeldSite(t))
	var mu sync.Mutex
	events := map[string]string{}
	f.svc.Events().Subscribe("deploy.*", "site", "", func(_ context.Context, ev trigger.Event) {
		mu.Lock()
		defer mu.Unlock()
		events[ev.Environment] = ev.Name
	})
	if err := f.svc.Cancel(context.Background(), r.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if d := f.wait(r.ID); d.Status != Cancelled {
		t.Fatalf("the run after the cancel: %s %s", d.Status, d.Message)
	}
	if h := healthCheckOf(t, f.svc, r.ID, "production"); !h.Final() || !h.Unverified() || h.Step != "production/health-check" {
		t.Fatalf("production after the cancel: %+v", h)
	}
	if h := healthCheckOf(t, f.svc, r.ID, "staging"); h.Unverified() || h.Status != Succeeded {
		t.Fatalf("staging after the cancel: %+v", h)
	}
	// Each environment's own outcome: staging deployed and passed its
	// checks, production's were cut short. The run publishes them after
	// it stores its status, which f.wait returns on: wait for the run's
	// end first, else Events().Wait may come before they are published.
	f.svc.runs.Wait()
	f.svc.Events().Wait()
	mu.Lock()
	defer mu.Unlock()
	if events["staging"] != trigger.DeploySucceeded || events["production"] != trigger.DeployFailed || len(events) != 2 {
		t.Fatalf("the run's deploy events: %v", events)
	}
}
