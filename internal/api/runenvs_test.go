package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/pipeline"
)

// stagedYAML releases to staging, then production, in stages of its own;
// its workflows act on production (failover) and on no environment (lint).
const stagedYAML = `
project: {name: shop}
environments: {staging: {}, production: {}}
pipeline:
  stages:
    - name: stage
      environment: staging
      steps: [{name: deploy, run: "true"}]
    - name: prod
      environment: production
      steps: [{name: deploy, run: "echo shipped to production"}]
workflows:
  failover:
    triggers: [{webhook: {auth: bearer, secret: "secret:HOOK"}}]
    steps: [{name: undo, run: "true", env: {X: "1"}}, {name: check, uses: health-check, with: {environment: production}}]
  lint:
    triggers: [{webhook: {auth: bearer, secret: "secret:HOOK"}}]
    steps: [{name: lint, run: "echo linted"}]
`

// TestAStagingTokenCannotActOnProductionThroughARun: a deploy token for
// shop/staging releases a pipeline that has a production stage by naming
// only staging, and the run leaves that stage out (the token retries it:
// it acts on staging alone); a stage it keeps that acts on production by
// a step's input is refused. Nor does the token retry or cancel a workflow
// run that acts on production. Before, the release ran the production
// stage and the run's routes checked only the environments the run was
// released to (none for a workflow).
func TestAStagingTokenCannotActOnProductionThroughARun(t *testing.T) {
	f := newFixture(t)
	dir := f.project(t.TempDir(), "staged", stagedYAML)
	status, out, _ := f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: dir, Version: "5.0.0", Environments: []string{"staging"}})
	var run pipeline.Run
	if status != http.StatusCreated || json.Unmarshal(out, &run) != nil {
		t.Fatalf("release to staging with a production stage: %d %s", status, out)
	}
	if len(run.Plan.Omitted) != 1 || run.Plan.Omitted[0].Stage != "prod" || !slices.Equal(run.Plan.Environments(), []string{"staging"}) {
		t.Fatalf("the release to staging's plan acts on %v, leaves out %+v", run.Plan.Environments(), run.Plan.Omitted)
	}
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	var log strings.Builder
	if err := f.pipe.Logs(ctx, run.ID, pipeline.LogOptions{Follow: true}, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "prod/deploy | [phoenix] skipped: stage prod acts on production, not in --env staging") {
		t.Errorf("the run's log:\n%s", log.String())
	}
	if status, out, _ := f.call("ci", "POST", "/api/v1/runs/"+strconv.FormatInt(run.ID, 10)+"/retry", nil); status != http.StatusCreated {
		t.Errorf("the staging token retries its release to staging: %d %s", status, out)
	}
	mixed := f.project(t.TempDir(), "mixed", strings.Replace(stagedYAML, `steps: [{name: deploy, run: "true"}]`,
		`steps: [{name: deploy, run: "true"}, {name: check, uses: health-check, with: {environment: production}}]`, 1))
	status, out, _ = f.call("ci", "POST", "/api/v1/releases", ReleaseRequest{Dir: mixed, Version: "5.0.0", Environments: []string{"staging"}})
	if status < 400 || !strings.Contains(string(out), "step stage/check acts on environment production") {
		t.Fatalf("release to staging of a staging stage acting on production: %d %s", status, out)
	}
	if runs, err := f.pipe.Runs(bg, pipeline.RunFilter{Project: "shop"}); err != nil || len(runs) != 3 {
		t.Fatalf("runs = %d, %v; want the fixture's, the release to staging and its retry", len(runs), err)
	}
	wf, err := f.pipe.StartWorkflow(bg, pipeline.WorkflowRequest{Dir: dir, Workflow: "failover", Actor: "seed"})
	if err != nil {
		t.Fatal(err)
	}
	f.finished(wf.ID)
	path := "/api/v1/runs/" + strconv.FormatInt(wf.ID, 10)
	if status, out, _ := f.call("stager", "POST", path+"/retry", nil); status != http.StatusForbidden ||
		!strings.Contains(string(out), "production") {
		t.Errorf("stager retries a workflow acting on production: %d %s", status, out)
	}
	// The staging token may not even see it (it cannot read production).
	if status, out, _ := f.call("ci", "POST", path+"/retry", nil); status != http.StatusNotFound {
		t.Errorf("ci retries a workflow acting on production: %d %s", status, out)
	}
	if status, out, _ := f.call("contributor", "POST", path+"/retry", nil); status != http.StatusCreated {
		t.Errorf("a contributor everywhere retries it: %d %s", status, out)
	}
}
