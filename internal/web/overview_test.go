package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/client"
	"github.com/phoenixvc/phoenix/internal/deploy"
)

// envRow is the overview's table row of one environment.
func envRow(page, project, env string) string {
	return regexp.MustCompile(`(?s)<tr>\s*<th scope="row"><a href="/ui/envs/` + project + `/` + env + `">.*?</tr>`).FindString(page)
}

// TestOverviewListsDeclaredEnvironments: an environment declared and
// never deployed (and a project with nothing deployed at all) is on the
// overview, saying so, with its domains; a user granted one project sees
// only that one.
func TestOverviewListsDeclaredEnvironments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.deploy("staging", "1.4.0", "first")
	for _, e := range []struct {
		project string
		spec    deploy.EnvSpec
	}{
		{"shop", deploy.EnvSpec{Name: "production", Domains: []string{"shop.example.com"}}},
		{"blog", deploy.EnvSpec{Name: "production"}},
	} {
		if err := f.a.Deploy.EnsureEnvironment(ctx, e.project, e.spec); err != nil {
			t.Fatal(err)
		}
	}
	f.addUser("admin", "", adminPW)
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, page := b.get("/")
	prod := envRow(page, "shop", "production")
	if !strings.Contains(prod, "no deployment yet") || !strings.Contains(prod, "shop.example.com") {
		t.Fatalf("shop/production row: %q\n%s", prod, page)
	}
	if st := envRow(page, "shop", "staging"); !strings.Contains(st, "1.4.0") || strings.Contains(st, "no deployment yet") {
		t.Fatalf("shop/staging row: %q", st)
	}
	if !strings.Contains(envRow(page, "blog", "production"), "no deployment yet") {
		t.Fatalf("blog/production is not on the overview:\n%s", page)
	}

	req := api.UserRequest{Name: "blogger", Password: "blogger-password-1", Grants: []auth.Grant{{Role: auth.RoleViewer, Project: "blog"}}}
	if err := f.admin.Do(ctx, "POST", client.Path("users"), req, nil); err != nil {
		t.Fatal(err)
	}
	b2 := f.browser()
	b2.mustLogin("blogger", "blogger-password-1")
	_, page = b2.get("/")
	if envRow(page, "blog", "production") == "" || strings.Contains(page, "/ui/envs/shop/") {
		t.Fatalf("blogger's overview:\n%s", page)
	}
}
