package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestRemovedRuleResolvesItsAlert: a rule dropped from phoenix.yaml while
// its alert fires resolves that alert at the next evaluation (announced,
// in the history), a pending one goes quiet, and a rule that was never
// configured (a restart that could not read a project) touches nothing.
func TestRemovedRuleResolvesItsAlert(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	rules := availabilityRules(t)
	ctx := context.Background()
	eval := stepper(t, m, clock)
	m.SetRules(rules)
	probePoint(m, "production", "home", clock.Now(), false, 40)
	eval()
	eval() // production fires
	probePoint(m, "staging", "home", clock.Now(), false, 40)
	eval() // staging pending
	open := func() map[string]string {
		a, err := m.Alerts(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, x := range a {
			out[x.Environment] = x.State
		}
		return out
	}
	if got := open(); got["production"] != StateFiring || got["staging"] != StatePending {
		t.Fatalf("before the removal: %v", got)
	}
	m.SetRules(nil)
	eval()
	if got := open(); len(got) != 0 {
		t.Fatalf("alerts of a removed rule still open: %v", got)
	}
	titles := pub.titles()
	if last := titles[len(titles)-1]; last != "alert.resolved [production] critical-availability resolved" {
		t.Fatalf("notifications %v", titles)
	}
	if text := pub.msgs[len(pub.msgs)-1].Text; text != "critical-availability: the rule is no longer in phoenix.yaml" {
		t.Errorf("resolution says %q", text)
	}
	if h, _ := m.History(ctx, 1); len(h) != 1 || h[0].Summary != "the rule is no longer in phoenix.yaml" {
		t.Errorf("history %+v", h)
	}
	// A monitor that starts without the rule (its project unreadable)
	// leaves the stored alerts alone.
	m2, err := New(Options{DB: m.opts.DB, Now: clock.Now, Publisher: pub, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	m2.SetRules(rules)
	probePoint(m2, "production", "home", clock.Now(), false, 40)
	eval2 := stepper(t, m2, clock)
	eval2()
	eval2()
	m3, err := New(Options{DB: m.opts.DB, Now: clock.Now, Publisher: pub, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	m3.SetRules(nil)
	stepper(t, m3, clock)()
	a, _ := m3.Alerts(ctx, false)
	for _, x := range a {
		if x.State != StateFiring {
			t.Errorf("a start without the rule changed the alert of %s: %+v", x.Environment, x)
		}
	}
	if len(a) == 0 {
		t.Fatal("a start without the rule resolved its alerts")
	}
}

// availabilityRules is alert_config's critical availability rule: below
// 99.9 % over 5 minutes, in every environment.
func availabilityRules(t *testing.T) []Rule {
	t.Helper()
	cfg, err := config.Parse([]byte(`project: {name: site}
environments: {production: {}, staging: {}}
monitor:
  alert_config:
    critical:
      - {type: availability, threshold: 99.9, window: 5m}
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return RulesFromConfig(cfg.Monitor)
}

// stepper returns an evaluation of m 5 s after the last, failing t on an
// error.
func stepper(t *testing.T, m *Monitor, clock *fakeClock) func() {
	return func() {
		t.Helper()
		clock.Add(5 * time.Second)
		if err := m.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRuleNarrowedResolvesTheOthers: the server scopes each rule to an
// environment (critical-availability of production.shop, of
// staging.shop; blog's of production.blog). A phoenix.yaml that keeps the
// rule for production only, or drops staging, or a project that drops a
// rule another project still has, left the alerts of the environments it
// no longer covers firing for ever: removal was judged by name.
func TestRuleNarrowedResolvesTheOthers(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	eval := stepper(t, m, clock)
	rule := availabilityRules(t)[0]
	scoped := func(envs ...string) []Rule {
		var out []Rule
		for _, e := range envs {
			r := rule
			r.Environment = e
			out = append(out, r)
		}
		return out
	}
	m.SetRules(scoped("production.shop", "staging.shop", "production.blog"))
	for _, env := range []string{"production.shop", "staging.shop", "production.blog"} {
		probePoint(m, env, "home", clock.Now(), false, 40)
	}
	eval()
	eval()
	firing := func() []string {
		a, err := m.Alerts(context.Background(), false)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range a {
			out = append(out, x.Environment+" "+x.State)
		}
		return out
	}
	if got := fmt.Sprint(firing()); got != "[production.blog firing production.shop firing staging.shop firing]" {
		t.Fatalf("before: %s", got)
	}
	m.SetRules(scoped("production.shop", "production.blog")) // shop's rule for production only
	eval()
	if got := fmt.Sprint(firing()); got != "[production.blog firing production.shop firing]" {
		t.Errorf("after staging's rule was dropped: %s", got)
	}
	if titles := pub.titles(); titles[len(titles)-1] != "alert.resolved [shop/staging] critical-availability resolved" {
		t.Errorf("notifications %v", titles)
	}
	m.SetRules(scoped("production.blog")) // shop drops it, blog keeps it
	eval()
	if got := fmt.Sprint(firing()); got != "[production.blog firing]" {
		t.Errorf("after shop dropped the rule blog keeps: %s", got)
	}
}
