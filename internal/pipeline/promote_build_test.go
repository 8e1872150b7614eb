package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
)

// buildSteps are the steps of the default pipeline a promotion leaves
// out: only the run's own build needs them.
var buildSteps = []string{"install", "build", "test-unit", "test-report", "check-secrets", "check-licenses", "check-sbom", "create-artifact"}

// TestPromotionLeavesTheBuildOut: with production's promote_from:
// staging, v1.0.0 released to staging and then to production deploys on
// production the artifact staging ran, and the second run installs,
// builds and tests nothing (the install, build and test commands append
// to a file: their executions are counted), says what it left out and
// why, and keeps the audit, the deploy and the health check; its gates
// left out are reported as staging's run found them. A version
// staging never ran still builds and is refused on production, as before.
func TestPromotionLeavesTheBuildOut(t *testing.T) {
	f, dsvc, proj := exampleFixture(t)
	counter := filepath.Join(f.dir, "executions")
	yml := filepath.Join(proj, "phoenix.yaml")
	b, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer(`install: "true"`, `install: "echo install >> `+counter+`"`,
		"command: node build.mjs", `command: "echo build >> `+counter+` && node build.mjs"`,
		"  production:\n", "  production:\n    promote_from: staging\n").Replace(string(b))
	s += "tests:\n  unit:\n    command: \"echo test >> " + counter + "\"\n"
	if err := os.WriteFile(yml, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	executions := func() int {
		t.Helper()
		b, err := os.ReadFile(counter)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Count(string(b), "\n")
	}

	staged := f.wait(f.release(proj, "v1.0.0", "staging").ID)
	if staged.Status != Succeeded {
		t.Fatalf("to staging: %s %s\n%s", staged.Status, staged.Message, f.log(staged.ID, ""))
	}
	built := stepOf(staged, "create-artifact").Outputs["digest"]
	if n := executions(); n != 3 {
		t.Fatalf("the release to staging ran %d of install, build and test; want 3", n)
	}

	promoted := f.wait(f.release(proj, "v1.0.0", "production").ID)
	if promoted.Status != Succeeded {
		t.Fatalf("to production: %s %s\n%s", promoted.Status, promoted.Message, f.log(promoted.ID, ""))
	}
	if n := executions(); n != 3 {
		t.Errorf("the promotion ran install, build or test again: %d executions in all, want 3", n)
	}
	ds, err := dsvc.Deployments(context.Background(), "example", "production", 1)
	if err != nil || len(ds) == 0 || ds[0].Artifact != backend.Digest(built) {
		t.Fatalf("production: %+v, %v; want staging's artifact %s", ds, err, built)
	}
	for _, id := range buildSteps {
		if stepOf(staged, id).Status == "missing" && id != "check-licenses" && id != "check-sbom" {
			t.Errorf("the release to staging has no step %s", id)
		}
		if st := stepOf(promoted, id); st.Status != "missing" {
			t.Errorf("the promotion ran %s (%s)", id, st.Status)
		}
	}
	for _, id := range []string{"validate-tag", "check-audit", "deploy/production", "health-check/production", "notify"} {
		if st := stepOf(promoted, id); st.Status != Succeeded {
			t.Errorf("the promotion's step %s: %s", id, st.Status)
		}
	}
	why := "promotion: production deploys the artifact staging ran of v1.0.0 (deployment "
	if om := promoted.Plan.OmittedStep("build"); om == nil || !strings.HasPrefix(om.Reason, why) || !slices.Contains(om.Steps, "create-artifact") {
		t.Errorf("the plan's omitted steps: %+v", promoted.Plan.Omitted)
	}
	if !strings.Contains(promoted.Message, "skipped: "+why) {
		t.Errorf("the run's message: %q", promoted.Message)
	}
	if log := f.log(promoted.ID, "build"); !strings.Contains(log, "[phoenix] skipped: "+why) {
		t.Errorf("the build's log:\n%s", log)
	}
	if log := f.log(promoted.ID, "deploy/production"); !strings.Contains(log, "promote_from: staging: deploying the artifact staging ran of v1.0.0, "+built) ||
		!strings.Contains(log, "this run built none") {
		t.Errorf("the deploy step's log:\n%s", log)
	}
	// The security report of production's release reads the gates of the
	// run that deployed it: those the promotion left out are those of the
	// run that built the artifact.
	g, err := f.svc.Gates(context.Background(), promoted.ID)
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf("run %d: ", staged.ID)
	if g.Audit == nil || g.Audit.Step != "check-audit" || g.Secrets == nil || g.Secrets.Step != src+"check-secrets" ||
		g.SBOMStatus != stepOf(staged, "check-sbom").Status {
		t.Errorf("the promotion's gates: audit %+v, secrets %+v, sbom %q", g.Audit, g.Secrets, g.SBOMStatus)
	}

	d := f.wait(f.release(proj, "v1.1.0", "production").ID)
	if step := stepOf(d, "deploy/production"); d.Status != Failed || step.Status != Failed ||
		!strings.Contains(step.Error, "(release v1.1.0) has no deployment on staging") {
		t.Fatalf("v1.1.0 to production alone: %s %s; deploy/production %s: %s", d.Status, d.Message, step.Status, step.Error)
	}
	if n := executions(); n != 6 {
		t.Errorf("a release staging never ran is no promotion and builds: %d executions in all, want 6", n)
	}
}
