package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestEnvironmentPageShowsTheEdgePolicy: the environment page lists who
// may connect, where it promotes from, and the project's edge policy (header rules, rate limit,
// firewall) once one is set; before, it says everyone and shows none.
func TestEnvironmentPageShowsTheEdgePolicy(t *testing.T) {
	f, b, _, _, _ := seeded(t)
	_, page := b.get("/ui/envs/shop/production")
	if !strings.Contains(page, "<dt>Clients allowed</dt><dd>everyone</dd>") || strings.Contains(page, "Rate limit") {
		t.Fatalf("before any policy:\n%s", page)
	}
	ctx := context.Background()
	if err := f.a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "production", IPAllow: []string{"10.0.0.0/8"},
		PromoteFrom: "staging"}); err != nil {
		t.Fatal(err)
	}
	policy := `{"headers":[{"name":"HSTS","order":1,"match":{"scheme":"https"},"set":{"Strict-Transport-Security":"max-age=31536000"}}],` +
		`"rate_limit":{"requests":600,"per":"1m","burst":100,"exempt":["192.0.2.0/24"]},"waf":{"mode":"detect","rules":["scanners","owasp-core"],` +
		`"exclude":[920420],"custom_rules":[{"name":"no-admin","priority":1,"action":"block","match":[{"variable":"path","operator":"begins_with","values":["/admin"]}]}]}}`
	if err := f.admin.Do(ctx, http.MethodPut, "/api/v1/projects/shop/edge", json.RawMessage(policy), nil); err != nil {
		t.Fatal(err)
	}
	_, page = b.get("/ui/envs/shop/production")
	for _, want := range []string{
		"<dt>Clients allowed</dt><dd>10.0.0.0/8</dd>",
		"<dt>Kind</dt><dd>standard · takes only what ran on staging</dd>",
		"<dt>Header rules</dt><dd>HSTS (https only)</dd>",
		"<dt>Rate limit</dt><dd>600 per 1m per client, bursts of 100 more; not for 192.0.2.0/24</dd>",
		"<dt>Firewall</dt><dd>detect · scanners · owasp-core · without CRS rules 920420 · custom rules: no-admin (block)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s:\n%s", want, page)
		}
	}
}
