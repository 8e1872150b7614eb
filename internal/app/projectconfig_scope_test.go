package app

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/projectcfg"
)

// scopedYAML is shop's phoenix.yaml with a health check, a probe and an
// alert rule in each of staging and production, a probe and a rule of
// no environment, and a pipeline releasing to both.
const scopedYAML = `project: {name: shop}
environments:
  staging: {health_checks: [{name: stage-ready, url: /ready}]}
  production: {health_checks: [{name: prod-payments, url: /payments}]}
monitor:
  endpoints:
    - {name: stage-home, environment: staging, url: /}
    - {name: prod-checkout, environment: production, url: /checkout}
    - {name: upstream, url: "http://127.0.0.1:9/"}
  alerts:
    - {name: StageSlow, metric: response_time, threshold: 1000ms, environment: staging}
    - {name: ProdDown, metric: availability, threshold: 99.9, environment: production}
    - {name: Errors, metric: error_rate, threshold: 1%}
pipeline:
  stages:
    - {name: stage, environment: staging, steps: [{name: ok, run: "true"}]}
    - {name: prod, needs: [stage], environment: production, steps: [{name: ok, run: "true"}]}
`

// TestConfigShowsOnlyWhatTheCallerMayRead: GET /api/v1/projects/P/config
// for a user whose grant covers staging alone shows staging's health
// checks, probes and alert rules (and those of no environment), not
// production's, as /api/v1/projects and the status leave production out;
// nor the release that stored the file when it went on to production (a
// run that user may not see is "no run N" elsewhere). A user who may read
// both sees everything. Before, the staging user saw production's check,
// probe and rule names and the release's run.
func TestConfigShowsOnlyWhatTheCallerMayRead(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), Proc: "-"})
	ctx := context.Background()
	run := releaseFolder(t, a, t.TempDir(), scopedYAML, "v1.0.0", "admin")
	a.projects.wait()
	users := map[string][]auth.Grant{
		"sam": {{Role: auth.RoleViewer, Project: "shop", Environment: "staging"}},
		"pat": {{Role: auth.RoleViewer, Project: "shop"}},
	}
	get := func(user string) projectcfg.Summary {
		t.Helper()
		if _, err := a.Auth.CreateUser(ctx, user, "a long enough password", users[user]); err != nil {
			t.Fatal(err)
		}
		_, tok, err := a.Auth.CreateToken(ctx, adminPrincipal(t, a, a.opts.DataDir), auth.TokenRequest{Name: "test", User: user})
		if err != nil {
			t.Fatal(err)
		}
		code, body := apiSendAs(t, a, tok, "GET", "/api/v1/projects/shop/config", "")
		var s projectcfg.Summary
		if err := json.Unmarshal([]byte(body), &s); code != 200 || err != nil {
			t.Fatalf("%s: GET config: %d %s (%v)", user, code, body, err)
		}
		if strings.Contains(body, "prod") != (user == "pat") {
			t.Errorf("%s: GET config: %s", user, body)
		}
		return s
	}
	s := get("sam")
	if len(s.HealthChecks) != 1 || !slices.Equal(s.HealthChecks["staging"], []string{"stage-ready"}) ||
		!slices.Equal(s.Probes, []string{"stage-home", "upstream"}) || !slices.Equal(s.AlertRules, []string{"StageSlow", "Errors"}) {
		t.Errorf("the staging user sees %+v", s)
	}
	if s.Entry == nil || s.Run != 0 || s.Release != "" || s.From != "a release by admin" {
		t.Errorf("the staging user sees where the file came from as %q (%+v); want the release and its run left out", s.From, s.Entry)
	}
	s = get("pat")
	if len(s.HealthChecks) != 2 || len(s.Probes) != 3 || len(s.AlertRules) != 3 || s.Entry == nil || s.Run != run.ID ||
		s.From != "release v1.0.0 (run 1) by admin" {
		t.Errorf("the user who may read the project sees %+v (from %q)", s, s.From)
	}
}
