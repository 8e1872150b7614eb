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
