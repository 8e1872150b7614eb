package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

func (f *fixture) projects(who, query string) Page[deploy.Project] {
	f.t.Helper()
	code, body, _ := f.call(who, "GET", "/api/v1/projects"+query, nil)
	if code != http.StatusOK {
		f.t.Fatalf("%s: GET /api/v1/projects%s = %d %s", who, query, code, body)
	}
	var pg Page[deploy.Project]
	if err := json.Unmarshal(body, &pg); err != nil {
		f.t.Fatal(err)
	}
	return pg
}

func envNames(p deploy.Project) []string {
	out := []string{}
	for _, e := range p.Environments {
		out = append(out, e.Name)
	}
	return out
}

// TestProjectsShowOnlyWhatTheCallerMayRead: the admin sees every project
// (a declared, never deployed one too) page by page; a user granted one
// project sees that project only; a token scoped to one environment sees
// that environment only.
func TestProjectsShowOnlyWhatTheCallerMayRead(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"blog", "docs"} {
		if err := f.dep.EnsureEnvironment(bg, p, deploy.EnvSpec{Name: "production", Domains: []string{p + ".example.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	first := f.projects("admin", "?limit=2")
	if len(first.Items) != 2 || first.Items[0].Name != "blog" || first.Items[1].Name != "docs" || first.NextCursor != "docs" {
		t.Fatalf("first page = %+v", first)
	}
	blog := first.Items[0].Environments
	if len(blog) != 1 || blog[0].Deployment != 0 || blog[0].Domains[0] != "blog.example.com" || blog[0].Kind != "standard" {
		t.Fatalf("blog = %+v: want production, declared and never deployed", blog)
	}
	second := f.projects("admin", "?limit=2&cursor="+first.NextCursor)
	if len(second.Items) != 1 || second.Items[0].Name != "shop" || second.NextCursor != "" {
		t.Fatalf("second page = %+v", second)
	}
	for _, e := range second.Items[0].Environments {
		if e.Deployment == 0 || e.DeployedAt.IsZero() {
			t.Fatalf("shop/%s = %+v: want its active deployment", e.Name, e)
		}
	}
	if _, err := f.auth.CreateUser(bg, "blogger", "", []auth.Grant{{Role: auth.RoleViewer, Project: "blog"}}); err != nil {
		t.Fatal(err)
	}
	f.tokens["blogger"] = f.mint("blogger", auth.TokenRequest{})
	cases := []struct {
		who  string
		want map[string][]string // project -> environments
	}{
		{"blogger", map[string][]string{"blog": {"production"}}},
		{"ci", map[string][]string{"shop": {"staging"}}},
		{"stager", map[string][]string{"blog": {"production"}, "docs": {"production"}, "shop": {"production", "staging"}}},
	}
	for _, c := range cases {
		got := map[string][]string{}
		for _, p := range f.projects(c.who, "").Items {
			got[p.Name] = envNames(p)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s sees %v, want %v", c.who, got, c.want)
		}
	}
	if code, _, _ := f.call("admin", "GET", "/api/v1/projects?limit=0", nil); code != http.StatusBadRequest {
		t.Fatalf("limit=0 = %d", code)
	}
}

// TestEnvironmentsListShowsOnlyReadable: a project's environment list
// leaves out those the caller may not read, as /api/v1/projects does: a
// deploy token limited to staging does not learn production's active
// deployment, domains or allowed clients.
func TestEnvironmentsListShowsOnlyReadable(t *testing.T) {
	f := newFixture(t)
	for who, want := range map[string]string{"ci": "[staging]", "stager": "[production staging]", "viewer": "[production staging]"} {
		code, body, _ := f.call(who, "GET", "/api/v1/projects/shop/environments", nil)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", who, code, body)
		}
		var pg Page[envOut]
		if err := json.Unmarshal(body, &pg); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, e := range pg.Items {
			got = append(got, e.Name)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("%s lists %v, want %v", who, got, want)
		}
	}
}
