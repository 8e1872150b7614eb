package pipeline

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// stagedYAML builds, deploys to staging, then to production behind an
// approval, checks production by an input and announces it.
const stagedYAML = `project: {name: shop}
environments:
  staging: {}
  production: {protection: {approvals: 1}}
pipeline:
  stages:
    - name: build
      steps:
        - {name: version, uses: validate-tag}
        - {name: compile, run: echo built}
    - name: stage
      needs: [build]
      environment: staging
      steps:
        - {name: deploy, run: test -f ready && echo "staged to $PHOENIX_ENVIRONMENT"}
    - name: prod
      needs: [stage]
      environment: production
      steps:
        - {name: deploy, run: echo shipped}
    - name: smoke
      needs: [prod]
      steps:
        - {name: purge, uses: purge-cache, with: {environment: production}}
    - name: announce
      needs: [smoke]
      steps:
        - name: tell
          run: 'echo "live, staging said ${{ steps.stage/deploy.outputs.x }}"'
`

// TestReleaseToStagingRunsTheStagesUpToStaging: a release to staging of a
// pipeline with stages for staging and production runs the build and the
// staging stage and leaves out those for production (by its environment or
// a step's input) and what needs only them, saying so in the run's plan,
// message and log. Before, it was refused (and before that, it ran the
// production stage on a permission checked for staging only). Its retry
// runs the same plan; the same version then goes on to production, whose
// stage follows the build when staging is left out, behind its approval.
func TestReleaseToStagingRunsTheStagesUpToStaging(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	proj := f.project(stagedYAML)
	d := f.wait(f.release(proj, "v1.0.0", "staging").ID)
	if d.Status != Failed || stepOf(d, "stage/deploy").Status != Failed { // no file "ready" yet
		t.Fatalf("release to staging: %s %s", d.Status, d.Message)
	}
	if err := os.WriteFile(filepath.Join(proj, "ready"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	retry, err := f.svc.Retry(ctx, d.ID, "bob")
	if err != nil {
		t.Fatal(err)
	}
	r := f.wait(retry.ID)
	if r.Status != Succeeded {
		t.Fatalf("its retry: %s %s\n%s", r.Status, r.Message, f.log(r.ID, ""))
	}
	for _, run := range []*RunDetail{d, r} {
		if got := ids(run.Plan); !slices.Equal(got, []string{"build/version", "build/compile", "stage/deploy"}) {
			t.Errorf("run %d's plan: %v", run.ID, got)
		}
		var stages []string
		for _, o := range run.Plan.Omitted {
			stages = append(stages, o.Stage+": "+o.Reason+" "+strings.Join(o.Steps, ","))
		}
		if want := []string{"prod: acts on production, not in --env staging prod/approval,prod/deploy",
			"smoke: acts on production, not in --env staging smoke/purge",
			"announce: needs only stages left out (smoke) announce/tell"}; !slices.Equal(stages, want) {
			t.Errorf("run %d left out\n%q\nwant\n%q", run.ID, stages, want)
		}
		if envs := run.Plan.Environments(); !slices.Equal(envs, []string{"staging"}) {
			t.Errorf("run %d's steps act on %v", run.ID, envs)
		}
	}
	if want := "skipped: stage prod acts on production, not in --env staging; stage smoke acts on production, not in --env staging; " +
		"stage announce needs only stages left out (smoke)"; r.Message != want {
		t.Errorf("the run's message is %q, want %q", r.Message, want)
	}
	log := f.log(r.ID, "")
	for _, want := range []string{"prod/approval | [phoenix] skipped: stage prod acts on production, not in --env staging\n",
		"prod/deploy | [phoenix] skipped: stage prod acts on production, not in --env staging\n",
		"announce/tell | [phoenix] skipped: stage announce needs only stages left out (smoke)\n",
		"stage/deploy | staged to staging\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if got := f.log(r.ID, "prod/deploy"); got != "[phoenix] skipped: stage prod acts on production, not in --env staging\n" {
		t.Errorf("prod/deploy's log: %q", got)
	}
	if f.audit.has("pipeline.approval.requested") || strings.Contains(log, "shipped") {
		t.Error("the release to staging reached production")
	}

	p := f.release(proj, "v1.0.0", "production")
	f.waitStatus(p.ID, Waiting)
	if got := p.Plan.Step("prod/approval").Needs; !slices.Equal(got, []string{"build/version", "build/compile"}) {
		t.Errorf("production's gate needs %v, want the build (staging is left out)", got)
	}
	if len(p.Plan.Omitted) != 1 || p.Plan.Omitted[0].Stage != "stage" || p.Plan.Omitted[0].Reason != "acts on staging, not in --env production" {
		t.Errorf("the release to production left out %+v", p.Plan.Omitted)
	}
	if err := f.svc.Approve(ctx, p.ID, "production", "bob", "staging looks good"); err != nil {
		t.Fatal(err)
	}
	if d := f.wait(p.ID); d.Status != Succeeded || stepOf(d, "announce/tell").Status != Succeeded {
		t.Fatalf("the same version to production: %s %s\n%s", d.Status, d.Message, f.log(d.ID, ""))
	}
	if log := f.log(p.ID, ""); !strings.Contains(log, "is promoted to production") || !strings.Contains(log, "announce/tell | live, staging said \n") {
		t.Errorf("the release to production's log:\n%s", log)
	}
}

func ids(p *spec.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

// TestReleaseRefusesStepsOutsideItsEnvironments: what a release keeps
// must not act on an environment it does not go to. A kept stage's step
// whose input names another is refused, naming it, before anything runs,
// as a stage acting on both; a release to an environment no stage acts
// on, every stage for another left out, is refused rather than build and
// deploy nowhere. Deploy permission is checked on the release's
// environments only.
func TestReleaseRefusesStepsOutsideItsEnvironments(t *testing.T) {
	f := newFixture(t, nil)
	const head = "project: {name: shop}\nenvironments:\n  staging: {}\n  production: {}\n  qa: {}\npipeline:\n  stages:\n"
	for name, tt := range map[string]struct{ stages, env, want string }{
		"input in a kept stage": {"    - name: stage\n      environment: staging\n      steps:\n        - {name: deploy, run: echo staged}\n" +
			"        - {name: check, uses: purge-cache, with: {environment: production}}\n",
			"staging", "step stage/check acts on environment production, which the release does not go to (staging)"},
		"a stage acting on both": {"    - name: check\n      steps:\n        - {name: staging, uses: purge-cache, with: {environment: staging}}\n" +
			"        - {name: production, uses: purge-cache, with: {environment: production}}\n",
			"staging", "step check/production acts on environment production, which the release does not go to (staging)"},
		"no stage for it": {"    - name: build\n      steps:\n        - {name: compile, run: echo built}\n" +
			"    - name: stage\n      environment: staging\n      steps:\n        - {name: deploy, run: echo staged}\n" +
			"    - name: prod\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n",
			"qa", "release: no stage of the pipeline acts on qa (its stages act on staging, production)"},
	} {
		t.Run(name, func(t *testing.T) {
			proj := f.project(head + tt.stages)
			_, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0",
				Environments: []string{tt.env}, Actor: "alice"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a refusal saying %q", err, tt.want)
			}
			runs, err := f.svc.Runs(context.Background(), RunFilter{Project: "shop"})
			if err != nil || len(runs) != 0 {
				t.Fatalf("runs = %v, %v; want none queued", runs, err)
			}
		})
	}
}
