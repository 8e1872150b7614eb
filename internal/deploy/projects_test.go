package deploy

import (
	"testing"
)

// TestProjectsListsDeclaredAndDeployed: every project with every
// environment, deployed or not, each with its active deployment's id and
// version; a project without environments is listed too. Runs on
// PostgreSQL with PHOENIX_TEST_DATABASE=postgres.
func TestProjectsListsDeclaredAndDeployed(t *testing.T) {
	f := newFixture(t)
	if err := f.svc.EnsureEnvironment(ctx, "blog", EnvSpec{Name: "production", Domains: []string{"blog.example.com", "www.blog.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnsureProject(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	dep, _ := f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	ps, err := f.svc.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Name != "blog" || ps[1].Name != "empty" || ps[2].Name != "site" {
		t.Fatalf("projects = %+v, want blog, empty, site", ps)
	}
	blog := ps[0].Environments
	if len(blog) != 1 || blog[0].Name != "production" || blog[0].Kind != "standard" || blog[0].Deployment != 0 ||
		len(blog[0].Domains) != 2 || blog[0].Domains[1] != "www.blog.example.com" || !blog[0].DeployedAt.IsZero() {
		t.Fatalf("blog = %+v, want production with its domains and no deployment", blog)
	}
	if len(ps[1].Environments) != 0 || ps[1].Environments == nil {
		t.Fatalf("empty = %+v, want an empty (not null) list", ps[1].Environments)
	}
	site := ps[2].Environments
	names := []string{}
	for _, e := range site {
		names = append(names, e.Name)
	}
	if len(site) != 3 || names[0] != "gated" || names[1] != "production" || names[2] != "staging" {
		t.Fatalf("site environments = %v", names)
	}
	st := site[2]
	if st.Deployment != dep.ID || st.Release != "v2" || st.DeployedAt.IsZero() || site[0].Deployment != 0 {
		t.Fatalf("staging = %+v, want deployment %d (v2)", st, dep.ID)
	}
}

// TestProjectsShowTheActiveVerification: each environment's active
// deployment comes with where the server's verification of it stands:
// pending (since when) until its verdict, none for one the server does
// not verify (a pipeline run's).
func TestProjectsShowTheActiveVerification(t *testing.T) {
	f := verifying(newFixture(t))
	d, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "one"})
	env := func() ProjectEnv {
		t.Helper()
		ps, err := f.svc.Projects(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ps[0].Environments {
			if e.Name == "production" {
				return e
			}
		}
		t.Fatalf("no production in %+v", ps)
		return ProjectEnv{}
	}
	if e := env(); e.Deployment != d.ID || e.Verification != VerifyPending || e.VerificationAt == nil ||
		!e.VerificationAt.Equal(*d.VerificationAt) {
		t.Fatalf("production while its verification is pending: %+v", e)
	}
	if _, err := f.svc.RecordVerification(ctx, d.ID, VerifyFailed); err != nil {
		t.Fatal(err)
	}
	if e := env(); e.Verification != VerifyFailed || e.VerificationAt == nil {
		t.Fatalf("production after a failed verification (kept active): %+v", e)
	}
	f.svc.opts.Verify = nil // a deployment the server does not verify
	f.deploy(t, "production", "v2", map[string]string{"index.html": "two"})
	if e := env(); e.Release != "v2" || e.Verification != "" || e.VerificationAt != nil {
		t.Fatalf("production with a deployment the server does not verify: %+v", e)
	}
}
