package app

import (
	"context"
	"net/http"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
)

// TestUndeployedEnvironmentAnswers503: an environment that exists with
// nothing deployed (a release declared it; its first deploy has not
// happened) answers 503 on its names, default and custom, behind its
// allow-list, from the moment it is saved and after a restart, not the
// 404 "unknown host" of a name no environment claims; its first deploy
// serves it, and deleting it makes its names unknown.
func TestUndeployedEnvironmentAnswers503(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a := startOpts(t, Options{DataDir: dir, VerifySoak: -1})
	spec := deploy.EnvSpec{Name: "staging", Domains: []string{"staging.shop.test"}}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", spec); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]int{"staging.shop.localhost": 503, "staging.shop.test": 503, "nowhere.shop.localhost": 404} {
		if code := hostGet(t, a, host); code != want {
			t.Errorf("%s: %d, want %d", host, code, want)
		}
	}
	spec.IPAllow = []string{"192.0.2.0/24"}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", spec); err != nil {
		t.Fatal(err)
	}
	if code := hostGet(t, a, "staging.shop.test"); code != http.StatusForbidden {
		t.Errorf("outside the allow-list: %d, want 403", code)
	}
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: "qa"}); err != nil {
		t.Fatal(err)
	}
	a.Stop(ctx)

	a = startOpts(t, Options{DataDir: dir, VerifySoak: -1})
	if code := hostGet(t, a, "qa.shop.localhost"); code != 503 {
		t.Errorf("after a restart: %d, want 503", code)
	}
	deployPage(t, a, "qa", "<title>qa</title>")
	if code := hostGet(t, a, "qa.shop.localhost"); code != 200 {
		t.Errorf("deployed: %d, want 200", code)
	}
	if err := a.Deploy.DeleteEnvironment(ctx, "shop", "staging"); err != nil {
		t.Fatal(err)
	}
	if code := hostGet(t, a, "staging.shop.localhost"); code != 404 {
		t.Errorf("deleted: %d, want 404 unknown host", code)
	}
}
