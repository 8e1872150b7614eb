package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// twoStagesYAML releases to staging, then production, each with a deploy
// step and a health-check step.
const twoStagesYAML = `
project: {name: site}
environments: {staging: {}, production: {}}
pipeline:
  stages:
    - name: build
      steps:
        - {name: site, run: "mkdir -p dist && echo '<h1>site</h1>' > dist/index.html"}
        - {name: artifact, uses: create-artifact, with: {dir: dist}}
    - name: staging
      needs: [build]
      environment: staging
      steps:
        - {name: deploy, uses: deploy}
        - {name: health-check, uses: health-check, with: {attempts: 1}}
    - name: production
      needs: [staging]
      environment: production
      steps:
        - {name: deploy, uses: deploy}
        - {name: health-check, uses: health-check, with: {attempts: 1}}
`

// heldSite serves the environments: staging's health checks are
// answered at once, production's are each announced on held and held
// until release is closed (let, or the request is abandoned).
type heldSite struct {
	staging, production *httptest.Server
	held                chan struct{}
	release             chan struct{}
	once                sync.Once
}

// let answers production's health checks from now on.
func (h *heldSite) let() { h.once.Do(func() { close(h.release) }) }

func newHeldSite(t *testing.T) *heldSite {
	h := &heldSite{held: make(chan struct{}, 10), release: make(chan struct{})}
	page := func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<h1>site</h1>")) }
	h.staging = httptest.NewServer(http.HandlerFunc(page))
	h.production = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.held <- struct{}{}
		select {
		case <-h.release:
			page(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		h.let()
		h.production.Close()
		h.staging.Close()
	})
	return h
}

// url is env's address.
func (h *heldSite) url(_, env string) string {
	if env == "production" {
		return h.production.URL + "/"
	}
	return h.staging.URL + "/"
}

// startHeld starts a service over a real deployments domain whose
// environments are served by site, releases twoStagesYAML and returns
// once production's health check is held: staging deployed and checked,
// production deployed and not.
func startHeld(t *testing.T, site *heldSite) (*fixture, *deploy.Service, *Run) {
	t.Helper()
	dir := t.TempDir()
	db, blobs, dsvc := deployService(t, dir)
	f := &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}
	f.svc = f.start(func(o *Options) {
		o.Deps = action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs,
			EnvURL: site.url}
	})
	r := f.release(f.project(twoStagesYAML), "v1.0.0", "staging", "production")
	select {
	case <-site.held:
	case <-time.After(time.Minute):
		t.Fatalf("production's health check never came:\n%s", f.log(r.ID, ""))
	}
	return f, dsvc, r
}

func healthCheckOf(t *testing.T, s *Service, run int64, env string) HealthCheck {
	t.Helper()
	h, err := s.HealthCheckOf(context.Background(), run, env)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHealthCheckOfAStoppedRun: a run stopped (gracefully) during
// production's health check is interrupted: the deployment it made on
// production was not verified, the one on staging (health check passed)
// was. While the run still runs nothing is final.
func TestHealthCheckOfAStoppedRun(t *testing.T) {
	f, dsvc, r := startHeld(t, newHeldSite(t))
	if h := healthCheckOf(t, f.svc, r.ID, "production"); h.RunStatus != Running || h.Final() || h.Unverified() ||
		h.Step != "production/health-check" || h.Status != Running {
		t.Fatalf("production while its health check runs: %+v", h)
	}
	prod := activeOf(t, dsvc, "production")
	if err := f.svc.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := healthCheckOf(t, f.svc, r.ID, "production")
	if h.RunStatus != Interrupted || !h.Final() || !h.Unverified() || h.Step != "production/health-check" || h.Status != Interrupted {
		t.Fatalf("production after the stop: %+v", h)
	}
	if h := healthCheckOf(t, f.svc, r.ID, "staging"); !h.Final() || h.Unverified() || h.Step != "staging/health-check" || h.Status != Succeeded {
		t.Fatalf("staging after the stop: %+v", h)
	}
	if h := healthCheckOf(t, f.svc, r.ID, "qa"); h.Unverified() || h.Step != "" {
		t.Fatalf("an environment the run has no health check of: %+v", h)
	}
	// The deployment names its run: what a start reads to find the run.
	ds, err := dsvc.Deployments(context.Background(), "site", "production", 1)
	if err != nil || len(ds) != 1 || ds[0].ID != prod || ds[0].Message != "pipeline run "+strconv.FormatInt(r.ID, 10) {
		t.Fatalf("production's deployment: %+v, %v", ds, err)
	}
	if _, err := f.svc.HealthCheckOf(context.Background(), r.ID+100, "production"); err == nil {
		t.Fatal("no error for a run that does not exist")
	}
}

// TestHealthCheckOfACrashedRun: a run whose server crashed during
// production's health check is left running in the database; the next
// server's start marks it interrupted, and its health check of production
// is then unverified as after a stop. (The crashed server is simulated by
// one still holding the health check: a new service on its database reads
// what a crash leaves.)
func TestHealthCheckOfACrashedRun(t *testing.T) {
	f, _, r := startHeld(t, newHeldSite(t))
	next := f.start(nil) // recovers the run the first one left running
	h := healthCheckOf(t, next, r.ID, "production")
	if h.RunStatus != Interrupted || !h.Unverified() || h.Step != "production/health-check" || h.Status != Interrupted {
		t.Fatalf("production after the next start: %+v", h)
	}
	if h := healthCheckOf(t, next, r.ID, "staging"); h.Unverified() || h.Status != Succeeded {
		t.Fatalf("staging after the next start: %+v", h)
	}
}

// TestHealthChecksOfAPlan: which steps are an environment's health
// checks (their own environment, else the run's only one), and which of
// them Unverified looks at (the first that did not succeed).
func TestHealthChecksOfAPlan(t *testing.T) {
	plan := &spec.Plan{Steps: []*spec.Step{
		{ID: "health-check/staging", Uses: spec.HealthCheckAction, Environment: "staging"},
		{ID: "deploy/production", Uses: "deploy", Environment: "production"},
		{ID: "health-check/production", Uses: spec.HealthCheckAction, Environment: "production"},
		{ID: "smoke", Uses: spec.HealthCheckAction},
	}}
	one := &Run{Environments: []string{"production"}, Plan: plan}
	if got := healthChecks(one, "production"); !slices.Equal(got, []string{"health-check/production", "smoke"}) {
		t.Errorf("a run to production: %v", got)
	}
	two := &Run{Environments: []string{"staging", "production"}, Plan: plan}
	if got := healthChecks(two, "production"); !slices.Equal(got, []string{"health-check/production"}) {
		t.Errorf("a run to staging and production: %v", got)
	}
	for _, c := range []struct {
		h    HealthCheck
		want bool
	}{
		{HealthCheck{RunStatus: Interrupted, Step: "s", Status: Interrupted}, true},
		{HealthCheck{RunStatus: Interrupted, Step: "s", Status: Pending}, true},
		{HealthCheck{RunStatus: Interrupted, Step: "s", Status: Failed}, true},
		{HealthCheck{RunStatus: Interrupted, Step: "s", Status: Succeeded}, false},
		{HealthCheck{RunStatus: Interrupted}, false}, // no health check of the environment
		// A run that ended otherwise before the check passed: the server
		// verifies what it left live (a deployment taken back is not active,
		// so not asked about).
		{HealthCheck{RunStatus: Failed, Step: "s", Status: Failed}, true},
		{HealthCheck{RunStatus: Cancelled, Step: "s", Status: Cancelled}, true},
		{HealthCheck{RunStatus: Succeeded, Step: "s", Status: Skipped}, true},
		{HealthCheck{RunStatus: Succeeded, Step: "s", Status: Succeeded}, false},
		{HealthCheck{RunStatus: Succeeded}, false},
		{HealthCheck{RunStatus: Running, Step: "s", Status: Running}, false},
		{HealthCheck{RunStatus: Waiting, Step: "s", Status: Pending}, false},
	} {
		if got := c.h.Unverified(); got != c.want {
			t.Errorf("%+v: unverified %v, want %v", c.h, got, c.want)
		}
	}
}
