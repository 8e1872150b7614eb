package spec

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

func known(a string) bool {
	return slices.Contains([]string{"deploy", "notify", "install", "build", "test", "validate-tag", "check/audit", "check/licenses",
		"check/secrets", "check/sbom", "fetch-secrets", "create-artifact", "purge-cache", "monitoring",
		"register-workflows", "health-check", "rollback", "test-report"}, a)
}

func parse(t *testing.T, y string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(y), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDefaultIsTheSeedFlow(t *testing.T) {
	cfg := parse(t, `
project: {name: shop}
tests:
  unit: {command: npm test, junit: junit.xml}
  e2e: {command: npx cypress run, optional: true}
environments:
  staging: {}
  production:
    protection: {approvals: 2, approvers: [admin]}
`)
	p, err := FromConfig(cfg, []string{"staging", "production"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(p, known); err != nil {
		t.Fatal(err)
	}
	needs := func(id string) []string { return p.Step(id).Needs }
	tests := []struct {
		step string
		want []string
	}{
		{"install", []string{"validate-tag"}},
		{"build", []string{"install"}}, // which it does not run again
		{"check-audit", []string{"validate-tag"}},
		{"check-secrets", []string{"build"}},  // it scans the build output too
		{"check-licenses", []string{"build"}}, // they read what the build installed
		{"check-sbom", []string{"build"}},
		{"test-unit", []string{"install"}}, // never beside an install: it replaces node_modules
		{"test-e2e", []string{"install"}},
		{"test-report", []string{"test-unit", "test-e2e"}},
		{"create-artifact", []string{"fetch-secrets", "build"}},
		{"deploy/staging", []string{"create-artifact"}},
		{"approval/production", []string{"health-check/staging"}},
		{"deploy/production", []string{"approval/production"}},
		{"purge-cache/production", []string{"approval/production"}},
		{"rollback", []string{"health-check/production"}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			if p.Step(tt.step) == nil {
				t.Fatalf("no step %s", tt.step)
			}
			if got := needs(tt.step); !slices.Equal(got, tt.want) {
				t.Errorf("needs %v, want %v", got, tt.want)
			}
		})
	}
	if g := p.Step("approval/production"); g.Approvals != 2 || g.Kind() != "approval" {
		t.Errorf("gate %+v", g)
	}
	if p.Step("approval/staging") != nil {
		t.Error("staging has no protection but got a gate")
	}
	if p.Step("build").With["install"] != false {
		t.Errorf("build installs again after the install step: with %v", p.Step("build").With)
	}
	if !p.Step("test-e2e").ContinueOnError || p.Step("rollback").If != Failure {
		t.Error("optional suite or rollback condition lost")
	}
	fetch := p.Step("fetch-secrets").Needs
	for _, g := range []string{"check-audit", "check-licenses", "check-secrets", "check-sbom", "install", "build", "test-unit", "test-e2e", "test-report"} {
		if !slices.Contains(fetch, g) {
			t.Errorf("fetch-secrets does not wait for %s", g)
		}
	}
	if order := p.Order(); len(order) != len(p.Steps) {
		t.Errorf("order has %d of %d steps", len(order), len(p.Steps))
	}
}

// TestDefaultSkipsDisabledChecks: a check whose checks.NAME.enabled is
// false has no step in the default plan, and nothing waits for it; the
// others still gate fetch-secrets.
func TestDefaultSkipsDisabledChecks(t *testing.T) {
	all := []string{"audit", "licenses", "secrets", "sbom"}
	for _, off := range all {
		t.Run(off, func(t *testing.T) {
			cfg := parse(t, "project: {name: shop}\nchecks:\n  "+off+": {enabled: false}\nenvironments:\n  staging: {}\n")
			p := Default(cfg, []string{"staging"})
			if err := Validate(p, known); err != nil {
				t.Fatal(err)
			}
			fetch := p.Step("fetch-secrets").Needs
			for _, name := range all {
				id := "check-" + name
				if on := p.Step(id) != nil; on != (name != off) || slices.Contains(fetch, id) != on {
					t.Errorf("%s: in the plan %v, gating fetch-secrets %v", id, on, slices.Contains(fetch, id))
				}
			}
		})
	}
}

// TestPlanRecordsDisabledChecks: a release plan, the default one or one's
// own, records each check phoenix.yaml turns off, with the setting and
// where it was; the record survives the JSON a run is stored as. LeftOut
// are those no step runs: a step of one's own that uses a disabled check
// runs it. A workflow's plan records none.
func TestPlanRecordsDisabledChecks(t *testing.T) {
	own := "pipeline:\n  stages:\n    - name: gates\n      steps:\n        - {name: audit, uses: check/audit}\n"
	tests := []struct {
		name, yaml string
		want       []DisabledCheck
		leftOut    []string
	}{
		{"default plan, none off", "", nil, nil},
		{"default plan, secrets off", "checks:\n  secrets: {enabled: false}\n",
			[]DisabledCheck{{Check: "secrets", Setting: "checks.secrets.enabled: false", At: "phoenix.yaml:4:13"}}, []string{"secrets"}},
		{"own pipeline, audit and sbom off", "checks:\n  sbom:\n    enabled: false\n  audit: {enabled: false}\n" + own,
			[]DisabledCheck{{Check: "audit", Setting: "checks.audit.enabled: false", At: "phoenix.yaml:6:11"},
				{Check: "sbom", Setting: "checks.sbom.enabled: false", At: "phoenix.yaml:5:5"}}, []string{"sbom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := FromConfig(parse(t, "project: {name: shop}\nenvironments: {staging: {}}\n"+tt.yaml), []string{"staging"})
			if err != nil {
				t.Fatal(err)
			}
			stored, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var back Plan
			if err := json.Unmarshal(stored, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Disabled, tt.want) {
				t.Errorf("disabled %+v, want %+v\n%s", back.Disabled, tt.want, stored)
			}
			if tt.want == nil && strings.Contains(string(stored), "disabled_checks") {
				t.Errorf("an empty record is stored: %s", stored)
			}
			var left []string
			for _, d := range back.LeftOut() {
				left = append(left, d.Check)
			}
			if !slices.Equal(left, tt.leftOut) {
				t.Errorf("left out %v, want %v", left, tt.leftOut)
			}
		})
	}
	w := parse(t, "project: {name: shop}\nchecks: {audit: {enabled: false}}\n"+
		"workflows:\n  nightly:\n    triggers: [{cron: \"@daily\"}]\n    steps: [{name: audit, uses: check/audit}]\n")
	if p, err := FromWorkflow("nightly", w.Workflows["nightly"]); err != nil || p.Disabled != nil {
		t.Errorf("workflow plan: %+v, %v", p, err)
	}
}

func TestStagesBecomeParallelGroups(t *testing.T) {
	cfg := parse(t, `
project: {name: shop}
environments:
  production:
    protection: {approvals: 1, approvers: [admin]}
pipeline:
  stages:
    - name: prepare
      steps:
        - {name: version, run: ./validate.sh}
    - name: build
      needs: [prepare]
      env: {NODE_ENV: production}
      steps:
        - {name: install, run: npm ci}
        - {name: compile, run: npm run build}
    - name: test
      needs: [prepare]
      steps:
        - {name: unit, run: npm test}
        - {name: lint, run: npm run lint, needs: [unit]}
    - name: ship
      needs: [build, test]
      environment: production
      steps:
        - {name: deploy, uses: deploy}
        - {name: report, run: echo done, if: always()}
`)
	p, err := FromConfig(cfg, []string{"production"})
	if err == nil {
		err = Validate(p, known)
	}
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		step string
		want []string
	}{
		{"build/install", []string{"prepare/version"}},
		{"test/unit", []string{"prepare/version"}},
		{"build/compile", []string{"build/install"}},
		{"test/lint", []string{"test/unit", "prepare/version"}},
		{"ship/approval", []string{"build/install", "build/compile", "test/unit", "test/lint"}},
		{"ship/deploy", []string{"ship/approval"}},
		{"ship/report", []string{"ship/deploy"}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			s := p.Step(tt.step)
			if s == nil {
				t.Fatalf("no step %s in %v", tt.step, ids(p))
			}
			if !slices.Equal(s.Needs, tt.want) {
				t.Errorf("needs %v, want %v", s.Needs, tt.want)
			}
		})
	}
	if p.Step("build/install").Env["NODE_ENV"] != "production" || p.Step("ship/deploy").Environment != "production" {
		t.Error("stage env or environment not inherited")
	}
	if p.Step("ship/report").If != Always {
		t.Error("condition lost")
	}
}

func ids(p *Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

func TestValidateListsEveryProblem(t *testing.T) {
	p := &Plan{Name: "x", Steps: []*Step{
		{ID: "a", Run: "true", Needs: []string{"c"}, If: Success},
		{ID: "b", Run: "true", Needs: []string{"a"}, If: Success},
		{ID: "c", Run: "true", Needs: []string{"b"}, If: Success},
		{ID: "d", Uses: "deploi", If: Success},
		{ID: "e", Run: "true", Needs: []string{"nope", "e"}, If: "sometimes"},
		{ID: "f", Run: "echo ${{ steps.ghost.outputs.x }}", If: Success, Retries: 11},
		{ID: "g", Run: "true", Needs: []string{"h"}, If: Success},
		{ID: "h", Run: "true", Needs: []string{"g"}, If: Success},
	}}
	err := Validate(p, known)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		"cycle: a -> c -> b -> a", "cycle: g -> h -> g", `unknown action "deploi"`, `unknown step "nope"`,
		"needs itself", `unknown condition "sometimes"`, `unknown step "ghost"`, "retries must be between",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

func TestValidateConfigWorkflowsAndCron(t *testing.T) {
	cfg := parse(t, `
project: {name: shop}
environments: {production: {}}
workflows:
  nightly:
    triggers:
      - cron: "0 0 * * *"
        tz: Africa/Johannesburg
    steps:
      - {name: verify, uses: backup/verify}
      - {name: report, run: ./report.sh, needs: [verify]}
`)
	err := ValidateConfig(cfg, []string{"production", "qa"}, known)
	if err == nil {
		t.Fatal("no problems")
	}
	for _, want := range []string{`workflows.nightly: step verify: unknown action "backup/verify"`, "unknown environment qa"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestParseConditionAndExpand(t *testing.T) {
	for in, want := range map[string]Condition{"": Success, "success()": Success, "${{ failure() }}": Failure, " always() ": Always} {
		if got, err := ParseCondition(in); err != nil || got != want {
			t.Errorf("ParseCondition(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseCondition("true"); err == nil {
		t.Error("accepted true")
	}
	got := Expand("v=${{ steps.build/x.outputs.dir }} ${{steps.a.outputs.b}}", func(s, n string) string { return s + ":" + n })
	if got != "v=build/x:dir a:b" {
		t.Errorf("Expand = %q", got)
	}
}

// An environment's load_test becomes a load-test step after its health
// check, aimed at it, with a time limit that fits its load; the next
// environment's gate and the rollback wait for it.
func TestDefaultLoadTestsAnEnvironment(t *testing.T) {
	cfg := parse(t, `
project: {name: shop}
environments:
  staging:
    load_test: {paths: [/], rate: 50, duration: 2m, thresholds: {p95: 300ms}}
  production:
    protection: {approvals: 1}
`)
	p, err := FromConfig(cfg, []string{"staging", "production"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(p, func(a string) bool { return known(a) || a == "load-test" }); err != nil {
		t.Fatal(err)
	}
	lt := p.Step("load-test/staging")
	if lt == nil || lt.Uses != "load-test" || lt.Environment != "staging" || !slices.Equal(lt.Needs, []string{"health-check/staging"}) ||
		lt.With["environment"] != "staging" || lt.With["rate"] != 50 {
		t.Fatalf("load-test step %+v", lt)
	}
	if lt.Timeout < 2*time.Minute+time.Minute {
		t.Errorf("timeout %v does not fit 2m of load", lt.Timeout)
	}
	if got := p.Step("approval/production").Needs; !slices.Equal(got, []string{"load-test/staging"}) {
		t.Errorf("production's gate needs %v, want the load test", got)
	}
	if p.Step("load-test/production") != nil {
		t.Error("production has no load_test but got a step")
	}
	if cfg.Environments["staging"].LoadTest["environment"] != nil {
		t.Error("the config's own inputs were changed")
	}
}

// TestFromConfigLeavesOutStagesOfOtherEnvironments: a release plan keeps
// the stages acting on its environments and what they need; a stage for
// another environment is left out with what needs only it, recorded with
// why, and a stage kept that followed one left out follows what that one
// followed. Every stage is still validated, those left out too.
func TestFromConfigLeavesOutStagesOfOtherEnvironments(t *testing.T) {
	const yml = `
project: {name: shop}
release: {environments: [staging]}
environments:
  staging: {}
  production: {protection: {approvals: 1}}
pipeline:
  stages:
    - name: build
      steps: [{name: compile, run: make}]
    - name: lint
      steps: [{name: eslint, run: npx eslint .}]
    - name: stage
      needs: [build, lint]
      environment: staging
      steps: [{name: deploy, uses: deploy}]
    - name: prod
      needs: [stage]
      environment: production
      steps: [{name: deploy, uses: deploy}]
    - name: tell
      needs: [prod]
      steps: [{name: notify, run: "echo ${{ steps.prod/deploy.outputs.deployment }}"}]
`
	cfg := parse(t, yml)
	p, err := FromConfig(cfg, cfg.ReleaseEnvironments())
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p); !slices.Equal(got, []string{"build/compile", "lint/eslint", "stage/deploy"}) {
		t.Errorf("to staging: %v", got)
	}
	want := []Omitted{
		{Stage: "prod", Steps: []string{"prod/approval", "prod/deploy"}, Environments: []string{"production"},
			Reason: "acts on production, not in release.environments (staging)"},
		{Stage: "tell", Steps: []string{"tell/notify"}, Reason: "needs only stages left out (prod)"},
	}
	if !reflect.DeepEqual(p.Omitted, want) {
		t.Errorf("left out %+v\nwant %+v", p.Omitted, want)
	}
	if err := ValidateConfig(cfg, cfg.ReleaseEnvironments(), known); err != nil {
		t.Errorf("a step of a kept stage reads a left-out one's outputs (empty, as a skipped step's): %v", err)
	}

	p, err = FromConfig(cfg, []string{"production"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p); !slices.Equal(got, []string{"build/compile", "lint/eslint", "prod/approval", "prod/deploy", "tell/notify"}) {
		t.Errorf("to production: %v", got)
	}
	if got := p.Step("prod/approval"); got.Stage != "prod" || !slices.Equal(got.Needs, []string{"build/compile", "lint/eslint"}) {
		t.Errorf("production's gate, staging left out: stage %q, needs %v", got.Stage, got.Needs)
	}
	if len(p.Omitted) != 1 || p.Omitted[0].Reason != "acts on staging, not in --env production" {
		t.Errorf("to production, left out %+v", p.Omitted)
	}

	// The loader refuses an action that does not exist (deploi); backup
	// exists but is not among this test's known ones.
	cfg = parse(t, strings.Replace(yml, "steps: [{name: deploy, uses: deploy}]\n    - name: tell", "steps: [{name: deploy, uses: backup}]\n    - name: tell", 1))
	if err := ValidateConfig(cfg, []string{"staging"}, known); err == nil || !strings.Contains(err.Error(), `step prod/deploy: unknown action "backup"`) {
		t.Errorf("a left-out stage is not validated: %v", err)
	}
	if p, _ := FromConfig(parse(t, "project: {name: shop}\nenvironments: {staging: {}, production: {}}\n"), []string{"staging"}); len(p.Omitted) != 0 {
		t.Errorf("the default pipeline left out %+v", p.Omitted)
	}
}
