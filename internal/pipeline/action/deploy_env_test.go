package action

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/artifact/backend"
	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/pipeline/spec"
)

// builtContext is a deploy step's context after create-artifact built
// a one-page site, with its Deps over svc and blobs.
func builtContext(t *testing.T, svc *deploy.Service, blobs backend.Backend, cfg *config.Config) (*Deps, *Context) {
	t.Helper()
	return builtContextOf(t, svc, blobs, cfg, map[string]string{"index.html": "<title>v1</title>"})
}

// builtContextOf is builtContext of a site of files.
func builtContextOf(t *testing.T, svc *deploy.Service, blobs backend.Backend, cfg *config.Config, files map[string]string) (*Deps, *Context) {
	t.Helper()
	dist := t.TempDir()
	write(t, dist, files)
	d := &Deps{Deployer: DeployService{Svc: svc, Blobs: blobs}, Blobs: blobs}
	sc, _, _ := newContext(t, dist, cfg, nil)
	sc.With["dir"] = dist
	if err := d.createArtifact(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	return d, sc
}

// TestDeployKeepsTheDeclaredEnvironment: a pipeline's deploy step declares
// the environment as phoenix.yaml has it, allow-list included. It once sent
// every setting but ip_allow, so a release opened an environment restricted
// to an office range to everyone.
func TestDeployKeepsTheDeclaredEnvironment(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"production": {
		Domains: []string{"www.example.com"}, IPAllow: []string{"10.1.0.0/16", "192.0.2.7"},
		Protection: config.Protection{Lock: true},
	}}
	if err := svc.EnsureEnvironment(ctx, "site", deploy.EnvSpec{Name: "production", IPAllow: []string{"10.1.0.0/16", "192.0.2.7"}}); err != nil {
		t.Fatal(err)
	}
	d, sc := builtContext(t, svc, blobs, cfg)
	sc.With["environment"] = "production"
	if err := d.deploy(ctx, sc); err != nil {
		t.Fatal(err)
	}
	e, err := svc.Environment(ctx, "site", "production")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.1.0.0/16", "192.0.2.7/32"}; !slices.Equal(e.IPAllow, want) {
		t.Errorf("after the deploy step ip_allow is %q, want %q", e.IPAllow, want)
	}
	if !e.Locked || !slices.Equal(e.Domains, []string{"www.example.com"}) {
		t.Errorf("after the deploy step the environment is %+v", e)
	}
}

// TestDeployLeavesAnUndeclaredEnvironment: deploying to an environment
// phoenix.yaml does not declare keeps the settings it was given through
// the API instead of wiping them.
func TestDeployLeavesAnUndeclaredEnvironment(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	if err := svc.EnsureEnvironment(ctx, "site", deploy.EnvSpec{Name: "intranet", IPAllow: []string{"10.0.0.0/8"},
		Domains: []string{"intranet.example.com"}}); err != nil {
		t.Fatal(err)
	}
	d, sc := builtContext(t, svc, blobs, config.Default())
	sc.With["environment"] = "intranet"
	if err := d.deploy(ctx, sc); err != nil {
		t.Fatal(err)
	}
	e, err := svc.Environment(ctx, "site", "intranet")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.IPAllow, []string{"10.0.0.0/8"}) || !slices.Equal(e.Domains, []string{"intranet.example.com"}) {
		t.Errorf("after the deploy step the environment is %+v", e)
	}
	sc.With["environment"] = "fresh" // a new one is still created
	if err := d.deploy(ctx, sc); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Environment(ctx, "site", "fresh"); err != nil {
		t.Fatal(err)
	}
}

// TestDeploySendsTheEdgePolicy: the deploy step stores phoenix.yaml's
// edge: section as the project's edge policy before the activation, and
// a phoenix.yaml without one clears it.
func TestDeploySendsTheEdgePolicy(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	dist := t.TempDir()
	write(t, dist, map[string]string{"index.html": "<title>v1</title>"})
	var seen []*config.Edge // the policy stored when each release went live
	svc.OnActivate(func(r deploy.Release) {
		e, err := svc.EdgePolicy(ctx, r.Project)
		if err != nil {
			t.Error(err)
		}
		seen = append(seen, e)
	})
	d := &Deps{Deployer: DeployService{Svc: svc, Blobs: blobs}, Blobs: blobs}
	for _, edge := range []string{`{"rate_limit":{"requests":60,"per":"1m"}}`, `{}`} {
		cfg := config.Default()
		e, err := config.ParseEdge([]byte(edge), "")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Edge = *e
		sc, _, _ := newContext(t, dist, cfg, nil)
		sc.With["dir"] = dist
		if err := d.createArtifact(ctx, sc); err != nil {
			t.Fatal(err)
		}
		sc.With["environment"] = "production"
		if err := d.deploy(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2 || seen[0] == nil || seen[0].RateLimit.Requests != 60 || seen[1] != nil {
		t.Fatalf("policies at activation: %+v", seen)
	}
}

// TestDeployCannotWeakenItsGate: a release's phoenix.yaml that asks for
// fewer approvals and no lock does not lower what the server's
// environment has, and the deployment needs that many approvals from the
// run: none is refused, two go live.
func TestDeployCannotWeakenItsGate(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	if err := svc.EnsureEnvironment(ctx, "site", deploy.EnvSpec{Name: "production", Approvals: 2, Locked: true}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"production": {}} // approvals 0, no lock
	d, sc := builtContext(t, svc, blobs, cfg)
	sc.With["environment"] = "production"
	err := d.deploy(ctx, sc)
	if err == nil || !strings.Contains(err.Error(), "needs 2 approval(s) before a deployment; this one has 0") {
		t.Fatalf("deploy without the approvals: %v", err)
	}
	if e, _ := svc.Environment(ctx, "site", "production"); e.Approvals != 2 || !e.Locked {
		t.Fatalf("the release lowered the environment's protection: %+v", e)
	}
	sc.Approvals = func(string) int { return 2 }
	if err := d.deploy(ctx, sc); err != nil {
		t.Fatalf("deploy with two approvals: %v", err)
	}
}

// TestDeployCannotDropPromoteFrom: a release's phoenix.yaml sets an
// environment's promote_from where none is stored, and cannot drop or move
// one that is: the deploy step of a build staging never ran is refused,
// and the stored setting stays.
func TestDeployCannotDropPromoteFrom(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"production": {PromoteFrom: "staging"}, "qa": {}}
	d, sc := builtContext(t, svc, blobs, cfg)
	sc.With["environment"] = "production"
	if err := d.deploy(ctx, sc); err == nil || !strings.Contains(err.Error(), "(environments.production.promote_from: staging)") {
		t.Fatalf("deploy of a build staging never ran: %v", err)
	}
	for _, from := range []string{"", "qa"} {
		cfg.Environments["production"].PromoteFrom = from
		if err := d.deploy(ctx, sc); err == nil || !strings.Contains(err.Error(), "(environments.production.promote_from: staging)") {
			t.Fatalf("deploy with promote_from %q in phoenix.yaml: %v", from, err)
		}
		if e, _ := svc.Environment(ctx, "site", "production"); e.PromoteFrom != "staging" {
			t.Fatalf("a release with promote_from %q in phoenix.yaml changed the stored one: %+v", from, e)
		}
	}
}

// TestDeployPromotesWhatStagingRan: a deploy step to production, which
// promotes from staging, in a run that did not deploy to staging deploys
// the artifact staging ran of the run's version instead of the run's
// build, and says so (here the build has other files); in a run that
// deployed to staging itself, the run's build goes, and is refused when
// staging did not take it.
func TestDeployPromotesWhatStagingRan(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"staging": {}, "production": {PromoteFrom: "staging"}}
	// deploy runs sc's deploy step to env and returns the artifact deployed
	// and the one the run built.
	deploy := func(d *Deps, sc *Context, env string) (deployed, built string, err error) {
		canon, rerr := os.ReadFile(filepath.Join(sc.Files, "manifest.json"))
		if rerr != nil {
			t.Fatal(rerr)
		}
		sc.With["environment"] = env
		sc.SetOutput = func(k, v string) {
			if k == "artifact" {
				deployed = v
			}
		}
		err = d.deploy(ctx, sc)
		return deployed, string(backend.Sum(canon)), err
	}
	d, sc := builtContext(t, svc, blobs, cfg)
	ran, _, err := deploy(d, sc, "staging")
	if err != nil {
		t.Fatal(err)
	}

	d, sc = builtContextOf(t, svc, blobs, cfg, map[string]string{"index.html": "<title>v1, changed since</title>"})
	got, built, err := deploy(d, sc, "production")
	if err != nil || got != ran || built == ran {
		t.Fatalf("production got %s, %v; staging ran %s, the run built %s", got, err, ran, built)
	}
	if want := "promote_from: staging: deploying the artifact staging ran of v1.0.0, " + ran + " (deployment 1 there), not this run's build " +
		built + " (which has other files: production gets what staging ran)\n"; !strings.Contains(sc.Log.(*bytes.Buffer).String(), want) {
		t.Errorf("log:\n%s\nwant %q", sc.Log, want)
	}

	sc.Deployed = func(env string) bool { return env == "staging" }
	if _, _, err := deploy(d, sc, "production"); err == nil ||
		!strings.Contains(err.Error(), "has no deployment on staging; staging ran release v1.0.0 as another artifact") {
		t.Fatalf("the run's own build, staging having another: %v", err)
	}
}

// TestFailedStagingUnderAutoOffIsNotPromoted: a run's staging deployment
// whose release failed under rollback.auto: false stays live on staging,
// recorded as failed verification by the rollback step, and a later
// release to production alone does not promote it.
func TestFailedStagingUnderAutoOffIsNotPromoted(t *testing.T) {
	ctx := context.Background()
	svc, blobs := holdFixture(t)
	cfg := config.Default()
	cfg.Environments = map[string]*config.Environment{"staging": {Rollback: config.RollbackPolicy{Auto: false}},
		"production": {PromoteFrom: "staging"}}
	d, sc := builtContext(t, svc, blobs, cfg)
	sc.With["environment"] = "staging"
	if err := d.deploy(ctx, sc); err != nil {
		t.Fatal(err)
	}
	sc.Deployed = func(env string) bool { return env == "staging" }
	sc.Failed = func() []*spec.Step { return []*spec.Step{{ID: "health-check/staging", Environment: "staging"}} }
	if err := d.rollback(ctx, sc); err != nil {
		t.Fatal(err)
	}
	e, _ := svc.Environment(ctx, "site", "staging")
	if ds, _ := svc.Deployments(ctx, "site", "staging", 0); len(ds) != 1 || ds[0].ID != e.ActiveID || ds[0].Verification != deploy.VerifyFailed {
		t.Fatalf("staging after the rollback step: %+v", ds)
	}
	d, sc = builtContextOf(t, svc, blobs, cfg, map[string]string{"index.html": "<title>v1, fixed</title>"})
	sc.With["environment"] = "production"
	if err := d.deploy(ctx, sc); err == nil || !strings.Contains(err.Error(), "has no deployment on staging; staging has release v1.0.0 as another artifact") ||
		!strings.Contains(err.Error(), ", failed verification)") {
		t.Fatalf("production after staging failed: %v", err)
	}
}

// TestCreateArtifactRefusesARouteConfigEveryDeployRefuses: a build
// output whose staticwebapp.config.json has errors fails create-artifact,
// naming them, before anything is built or signed; a release ran every
// gate, signed the artifact and waited for nothing but its first deploy
// to refuse it.
func TestCreateArtifactRefusesARouteConfigEveryDeployRefuses(t *testing.T) {
	svc, blobs := holdFixture(t)
	dist := t.TempDir()
	write(t, dist, map[string]string{"index.html": "<title>v1</title>",
		"staticwebapp.config.json": `{"routes": [{"route": "/*", "headers": {"x-a": "1"}}, {"route": "/admin/*", "allowedRoles": ["admin"]}]}`})
	d := &Deps{Deployer: DeployService{Svc: svc, Blobs: blobs}, Blobs: blobs}
	sc, _, outs := newContext(t, dist, config.Default(), nil)
	sc.With["dir"] = dist
	err := d.createArtifact(context.Background(), sc)
	if err == nil || !strings.Contains(err.Error(), "the build output's staticwebapp.config.json has errors, for which every deploy would refuse the artifact") ||
		!strings.Contains(err.Error(), `a route is covered up by a wildcard route and would not be evaluated: route "/admin/*"`) {
		t.Fatalf("create-artifact: %v", err)
	}
	if outs["manifest"] != "" || outs["digest"] != "" {
		t.Errorf("create-artifact made an artifact of it")
	}
}
