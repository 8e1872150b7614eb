package spec

import (
	"slices"
	"strings"
	"testing"
)

// TestPromoteLeavesOutTheBuild: a default plan whose every environment
// promotes loses the install, the build, the tests, the checks that read
// the build and the artifact; what is kept follows what those needed
// (the deploy group follows fetch-secrets, and so the audit), each deploy
// names where its artifact comes from, and the plan says why. A release
// one of whose environments does not promote keeps its build. Only the
// plan that builds needs the project's source (a checkout of its commit).
func TestPromoteLeavesOutTheBuild(t *testing.T) {
	cfg := parse(t, `
project: {name: shop}
tests:
  unit: {command: npm test}
environments:
  staging: {}
  production:
    promote_from: staging
    protection: {approvals: 1}
  eu:
    promote_from: staging
`)
	envs := []string{"production", "eu"}
	p, err := FromConfig(cfg, envs)
	if err != nil {
		t.Fatal(err)
	}
	p.Promote("v1.4.2", envs, []Promotion{{Env: "production", From: "staging", Deployment: 7}})
	if p.Step("build") == nil || len(p.Omitted) != 0 {
		t.Fatalf("eu does not promote, yet the build is left out: %+v", p.Omitted)
	}
	if !p.BuildsSource() {
		t.Error("a plan with its build does not build the project's source (no checkout would be made)")
	}
	p.Promote("v1.4.2", envs, []Promotion{{Env: "production", From: "staging", Deployment: 7}, {Env: "eu", From: "staging", Deployment: 7}})
	for _, id := range []string{"install", "build", "test-unit", "test-report", "check-secrets", "check-licenses", "check-sbom", "create-artifact"} {
		if p.Step(id) != nil || p.OmittedStep(id) == nil {
			t.Errorf("step %s is kept, or not recorded as left out", id)
		}
	}
	if err := Validate(p, known); err != nil {
		t.Fatal(err)
	}
	if p.BuildsSource() {
		t.Error("a promotion builds the project's source: it would make a checkout for nothing")
	}
	if got := p.Step("fetch-secrets").Needs; !slices.Equal(got, []string{"check-audit", "validate-tag"}) {
		t.Errorf("fetch-secrets needs %v", got)
	}
	if got := p.Step("approval/production").Needs; !slices.Equal(got, []string{"fetch-secrets", "validate-tag"}) {
		t.Errorf("production's gate needs %v", got)
	}
	if p.Step("deploy/production").With[PromoteInput] != "staging" || p.Step("purge-cache/production").With[PromoteInput] != nil {
		t.Errorf("deploy/production: %v; purge-cache/production: %v", p.Step("deploy/production").With, p.Step("purge-cache/production").With)
	}
	want := "promotion: production deploys the artifact staging ran of v1.4.2 (deployment 7 there, promote_from: staging); " +
		"eu deploys the artifact staging ran of v1.4.2 (deployment 7 there, promote_from: staging), not a build of this run"
	if note := p.OmittedNote(); note != "skipped: "+want {
		t.Errorf("note %q", note)
	}
	if !strings.HasPrefix(p.Omitted[0].Why(), "promotion: ") {
		t.Errorf("why %q", p.Omitted[0].Why())
	}
}
