package pipeline

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/examples"
	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/action"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestExampleReleasesThroughTheDefaultPipeline is what phoenix demo does:
// the bundled example released to staging and production in one run.
func TestExampleReleasesThroughTheDefaultPipeline(t *testing.T) {
	f, dsvc, proj := exampleFixture(t)
	r, err := f.svc.Release(context.Background(), ReleaseRequest{Dir: proj, Version: "v1.0.0", Actor: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	d := f.wait(r.ID)
	if d.Status != Succeeded {
		t.Fatalf("%s: %s\n%s", d.Status, d.Message, f.log(r.ID, ""))
	}
	if len(d.Environments) != 2 || activeOf(t, dsvc, "staging") == 0 || activeOf(t, dsvc, "production") == 0 {
		t.Fatalf("environments %v", d.Environments)
	}
}

// exampleFixture is a pipeline service over the real deployments domain,
// with the bundled example copied into its folder (proj); health checks
// reach a site that answers as the example does.
func exampleFixture(t *testing.T) (*fixture, *deploy.Service, string) {
	t.Helper()
	testkit.RequireTool(t, "node", "nodejs")
	dir := t.TempDir()
	db, blobs, dsvc := deployService(t, dir)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<title>Phoenix example</title>"))
	}))
	t.Cleanup(site.Close)
	f := &fixture{t: t, dir: dir, db: db, audit: &auditLog{}}
	f.svc = f.start(func(o *Options) {
		o.Deps = action.Deps{Deployer: action.DeployService{Svc: dsvc, Blobs: blobs}, Blobs: blobs,
			AdvisoryDir: filepath.Join(dir, "advisories"), EnvURL: func(string, string) string { return site.URL },
			HealthInterval: 10 * time.Millisecond}
	})
	proj := filepath.Join(dir, "example")
	if err := examples.CopyTo(examples.Site(), proj); err != nil {
		t.Fatal(err)
	}
	return f, dsvc, proj
}

// TestExampleIsPromotedFromStagingToProduction: with production's
// promote_from: staging, the example released to staging and then, the
// same version, to production goes live on production as the very
// artifact staging ran (a build of its own would be another artifact: the
// manifest records when and by which run it was built, so the run makes
// none), and the deploy step says so. The default plan's one run to both still passes, and a
// version staging never ran is refused on production.
func TestExampleIsPromotedFromStagingToProduction(t *testing.T) {
	f, dsvc, proj := exampleFixture(t)
	yml := filepath.Join(proj, "phoenix.yaml")
	b, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yml, []byte(strings.Replace(string(b), "  production:\n", "  production:\n    promote_from: staging\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	artifactOf := func(env string) backend.Digest {
		t.Helper()
		ds, err := dsvc.Deployments(context.Background(), "example", env, 1)
		if err != nil || len(ds) == 0 || !ds[0].Active {
			t.Fatalf("%s: %+v, %v", env, ds, err)
		}
		return ds[0].Artifact
	}
	released := func(version string, envs ...string) *RunDetail {
		t.Helper()
		d := f.wait(f.release(proj, version, envs...).ID)
		if d.Status != Succeeded {
			t.Fatalf("release %s to %v: %s %s\n%s", version, envs, d.Status, d.Message, f.log(d.ID, ""))
		}
		return d
	}

	staged := released("v1.0.0", "staging")
	built := stepOf(staged, "create-artifact").Outputs["digest"]
	if artifactOf("staging") != backend.Digest(built) {
		t.Fatalf("staging runs %s, the run built %s", artifactOf("staging"), built)
	}
	promoted := released("v1.0.0", "production")
	if st := stepOf(promoted, "create-artifact"); st.Status != "missing" {
		t.Fatalf("the promotion built an artifact (create-artifact %s): it would be discarded", st.Status)
	}
	if got := artifactOf("production"); got != backend.Digest(built) {
		t.Fatalf("production runs %s, want the artifact staging ran, %s", got, built)
	}
	if log := f.log(promoted.ID, "deploy/production"); !strings.Contains(log, "promote_from: staging: deploying the artifact staging ran of v1.0.0, "+built) {
		t.Errorf("the deploy step's log does not say what it promoted:\n%s", log)
	}

	both := released("v1.1.0")
	if built := stepOf(both, "create-artifact").Outputs["digest"]; artifactOf("staging") != backend.Digest(built) || artifactOf("production") != backend.Digest(built) {
		t.Fatalf("one run to both: staging %s, production %s, built %s", artifactOf("staging"), artifactOf("production"), built)
	}

	d := f.wait(f.release(proj, "v1.2.0", "production").ID)
	if step := stepOf(d, "deploy/production"); d.Status != Failed || step.Status != Failed ||
		!strings.Contains(step.Error, "environment example/production takes only artifacts that ran on staging (environments.production.promote_from: staging)") ||
		!strings.Contains(step.Error, "(release v1.2.0) has no deployment on staging") {
		t.Fatalf("v1.2.0 to production alone: %s %s; deploy/production %s: %s", d.Status, d.Message, step.Status, step.Error)
	}
	if got := artifactOf("production"); got != artifactOf("staging") {
		t.Fatalf("production changed after the refusal: %s", got)
	}
}
