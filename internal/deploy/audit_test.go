package deploy

import (
	"context"
	"database/sql"
	"errors"
	"testing"
)

func TestAuditHookRunsInTheChangesTransaction(t *testing.T) {
	f := newFixture(t)
	var events []Event
	fail := false
	f.svc.opts.Audit = func(ctx context.Context, tx *sql.Tx, e Event) error {
		if fail {
			return errors.New("audit log unavailable")
		}
		events = append(events, e)
		return nil
	}
	d1, _ := f.deploy(t, "staging", "v1", map[string]string{"index.html": "one"})
	f.deploy(t, "staging", "v2", map[string]string{"index.html": "two"})
	if _, err := f.svc.Rollback(ctx, "site", "staging", 0, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "qa"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteEnvironment(ctx, "site", "qa"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"deploy.activate", "deploy.activate", "deploy.rollback", "env.save", "env.delete", "deploy.gc"}
	if len(events) != len(want) {
		t.Fatalf("events = %+v", events)
	}
	for i, w := range want {
		if events[i].Action != w {
			t.Errorf("event %d = %s, want %s", i, events[i].Action, w)
		}
	}
	if events[2].Actor != "bob" || events[2].Deployment != d1.ID || events[0].Actor != "alice" {
		t.Errorf("rollback event = %+v", events[2])
	}
	// When the record cannot be written, nothing changes.
	fail = true
	if _, err := f.svc.Rollback(ctx, "site", "staging", 0, "bob"); err == nil {
		t.Fatal("rollback succeeded without its audit record")
	}
	env, _ := f.svc.Environment(ctx, "site", "staging")
	if env.ActiveID != d1.ID {
		t.Fatalf("active moved to %d although the change failed", env.ActiveID)
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "qa2"}); err == nil {
		t.Fatal("environment saved without its audit record")
	}
	if _, err := f.svc.Environment(ctx, "site", "qa2"); err == nil {
		t.Fatal("environment exists although the change failed")
	}
}

// TestEnvSaveDetailIsText: env.save's audit detail lists domains and the
// allow-list as a person writes them (none, any), not as Go values
// ("domains [], ip allow []").
func TestEnvSaveDetailIsText(t *testing.T) {
	f := newFixture(t)
	saved := auditDetails(f, "env.save")
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "qa"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.EnsureEnvironment(ctx, "site", EnvSpec{Name: "production", Locked: true, Approvals: 1,
		Domains: []string{"www.example.com", "shop.example.com"}, IPAllow: []string{"10.0.0.0/8", "2001:db8::1"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"kind standard, locked no, approvals 0, domains none, ip allow any",
		"kind standard, locked yes, approvals 1, domains www.example.com, shop.example.com, ip allow 10.0.0.0/8, 2001:db8::1/128"}
	if details := *saved; len(details) != 2 || details[0] != want[0] || details[1] != want[1] {
		t.Errorf("env.save details:\n%q\nwant\n%q", details, want)
	}
}

// auditDetails collects the details of the audit records of action that
// f's service makes from now on.
func auditDetails(f *fixture, action string) *[]string {
	var details []string
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error {
		if e.Action == action {
			details = append(details, e.Detail)
		}
		return nil
	}
	return &details
}
