package web_test

import (
	"html"
	"regexp"
	"strings"
	"testing"
)

var olderDeployments = regexp.MustCompile(`<a href="([^"]+)">Older deployments</a>`)

// TestRollbackButtonNamesTheRightDeployment: on the second page of an
// environment's history the rollback button does not name the newest
// deployment there, which is not where a rollback goes (the one before
// the active, on the first page).
func TestRollbackButtonNamesTheRightDeployment(t *testing.T) {
	f := newFixture(t)
	f.addUser("admin", "", adminPW)
	for _, r := range []string{"v1", "v2", "v3", "v4", "v5"} {
		f.deploy("production", r, "deploy "+r)
	}
	b := f.browser()
	b.mustLogin("admin", adminPW)
	_, first := b.get("/ui/envs/shop/production?limit=2")
	if !strings.Contains(first, "Roll back to the previous deployment (4)") {
		t.Fatalf("the first page's rollback button:\n%s", first)
	}
	m := olderDeployments.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("no link to older deployments:\n%s", first)
	}
	_, second := b.get(html.UnescapeString(m[1]))
	if !strings.Contains(second, "Roll back to the previous deployment<") || strings.Contains(second, "previous deployment (3)") {
		t.Fatalf("the second page's rollback button:\n%s", second)
	}
}
