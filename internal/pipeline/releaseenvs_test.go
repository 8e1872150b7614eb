package pipeline

import (
	"context"
	"strings"
	"testing"
)

// TestReleaseRefusesStepsOutsideItsEnvironments: a release to staging
// whose own pipeline has a stage (or a step's environment input) acting on
// production is refused before anything runs. Otherwise --env staging,
// and a deploy token limited to staging (the API checks deploy on the
// release's environments only), would deploy to production.
func TestReleaseRefusesStepsOutsideItsEnvironments(t *testing.T) {
	f := newFixture(t, nil)
	for name, pipeline := range map[string]string{
		"stage": "    - name: prod\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n",
		"input": "    - name: prod\n      steps:\n        - {name: check, uses: health-check, with: {environment: production}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			proj := f.project("project: {name: shop}\nenvironments:\n  staging: {}\n  production: {}\n" +
				"pipeline:\n  stages:\n    - name: stage\n      environment: staging\n      steps:\n        - {name: deploy, run: echo staged}\n" + pipeline)
			_, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0",
				Environments: []string{"staging"}, Actor: "alice"})
			if err == nil || !strings.Contains(err.Error(), "production") || !strings.Contains(err.Error(), "prod/") {
				t.Fatalf("a release to staging acting on production: err = %v, want a refusal naming the step and production", err)
			}
			runs, err := f.svc.Runs(context.Background(), RunFilter{Project: "shop"})
			if err != nil || len(runs) != 0 {
				t.Fatalf("runs = %v, %v; want none queued", runs, err)
			}
		})
	}
	proj := f.project("project: {name: shop}\nenvironments:\n  staging: {}\n  production: {}\n" +
		"pipeline:\n  stages:\n    - name: stage\n      environment: staging\n      steps:\n        - {name: deploy, run: echo staged}\n" +
		"    - name: prod\n      environment: production\n      steps:\n        - {name: deploy, run: echo shipped}\n")
	if d := f.wait(f.release(proj, "v1.0.1", "staging", "production").ID); d.Status != Succeeded {
		t.Fatalf("a release to both: %s", d.Status)
	}
}
