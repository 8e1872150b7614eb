package deploy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// TestHistoryListsActivations: deploys, a rollback and an automatic one
// (to the newest deployment before the failed one)
// make the environment's history, newest first, each live until the next
// one; limit keeps the newest; staging's activations are not
// production's; an environment deleted and deployed to again starts a new
// history; an unknown one is NotFound.
func TestHistoryListsActivations(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	clockAt(f, &now)
	step := func() time.Time { now = now.Add(time.Hour); return now }
	a, _ := f.deploy(t, "production", "v1", map[string]string{"index.html": "a"})
	step()
	b, _ := f.deploy(t, "production", "v2", map[string]string{"index.html": "b"})
	step()
	f.deploy(t, "staging", "v3", map[string]string{"index.html": "s"})
	step()
	if _, err := f.svc.Rollback(ctx, "site", "production", a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	step()
	c, _ := f.deploy(t, "production", "v4", map[string]string{"index.html": "c"})
	step()
	if _, err := f.svc.Revert(ctx, RevertRequest{Project: "site", Environment: "production", Failed: c.ID,
		Reason: "health-check/production", Actor: "phoenix"}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	at := func(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format("15:04") }
	want := []string{
		fmt.Sprintf("rollback %d v2 phoenix %s-live from deployment %d to %d: deployment %d failed verification (health-check/production)",
			b.ID, at(5), c.ID, b.ID, c.ID),
		fmt.Sprintf("deploy %d v4 alice %s-%s", c.ID, at(4), at(5)),
		fmt.Sprintf("rollback %d v1 bob %s-%s from deployment %d to %d", a.ID, at(3), at(4), b.ID, a.ID),
		fmt.Sprintf("deploy %d v2 alice %s-%s", b.ID, at(1), at(3)),
		fmt.Sprintf("deploy %d v1 alice %s-%s", a.ID, at(0), at(1)),
	}
	if got := activations(t, f, "production", 0); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := activations(t, f, "production", 2); strings.Join(got, "\n") != strings.Join(want[:2], "\n") {
		t.Errorf("limit 2:\n%s", strings.Join(got, "\n"))
	}
	if got := activations(t, f, "staging", 0); len(got) != 1 || !strings.HasPrefix(got[0], "deploy ") || !strings.Contains(got[0], " v3 ") {
		t.Errorf("staging history %q", got)
	}

	step()
	if err := f.svc.DeleteEnvironment(ctx, "site", "staging"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.History(ctx, "site", "staging", 0); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("history of a deleted environment: %v, want NotFound", err)
	}
	step()
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "staging"}); err != nil {
		t.Fatal(err)
	}
	if got := activations(t, f, "staging", 0); len(got) != 0 {
		t.Errorf("staging declared again: history %q, want none", got)
	}
	f.deploy(t, "staging", "v5", map[string]string{"index.html": "s5"})
	if got := activations(t, f, "staging", 0); len(got) != 1 || !strings.Contains(got[0], " v5 ") {
		t.Errorf("staging deleted and deployed to again: history %q, want only v5", got)
	}
}

// activations renders f's history of env as "ACTION DEPLOYMENT RELEASE ACTOR
// FROM-UNTIL [DETAIL]" lines, checking each is of the environment.
func activations(t *testing.T, f *fixture, env string, limit int) []string {
	t.Helper()
	h, err := f.svc.History(ctx, "site", env, limit)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range h {
		if a.Project != "site" || a.Environment != env {
			t.Errorf("activation %d of %s/%s in the history of site/%s", a.ID, a.Project, a.Environment, env)
		}
		until := "live"
		if a.Until != nil {
			until = a.Until.UTC().Format("15:04")
		}
		line := fmt.Sprintf("%s %d %s %s %s-%s %s", a.Action, a.Deployment, a.Release, a.Actor, a.At.UTC().Format("15:04"), until, a.Detail)
		out = append(out, strings.TrimSpace(line))
	}
	return out
}
