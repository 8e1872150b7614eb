package deploy

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/usererr"
)

func mustEdge(t *testing.T, js string) *config.Edge {
	t.Helper()
	e, err := config.ParseEdge([]byte(js), "")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestEdgePolicyIsStoredIdempotentAndCleared: a change is stored,
// audited in its transaction and announced; the same policy again writes
// and audits nothing; an empty one clears it. Runs on PostgreSQL with
// PHOENIX_TEST_DATABASE=postgres.
func TestEdgePolicyIsStoredIdempotentAndCleared(t *testing.T) {
	f := newFixture(t)
	var events []Event
	f.svc.opts.Audit = func(_ context.Context, _ *sql.Tx, e Event) error { events = append(events, e); return nil }
	var told []string
	f.svc.OnEdgePolicy(func(p string) { told = append(told, p) })
	if e, err := f.svc.EdgePolicy(ctx, "site"); err != nil || e != nil {
		t.Fatalf("fresh project: policy %v, err %v", e, err)
	}
	pol := mustEdge(t, `{"headers":[{"name":"hsts","match":{"scheme":"https"},"set":{"Strict-Transport-Security":"max-age=60"}}],
		"rate_limit":{"requests":10,"per":"1s","exempt":["10.0.0.0/8"]}}`)
	for i, want := range []bool{true, false} {
		changed, err := f.svc.SetEdgePolicy(ctx, "site", pol, "alice")
		if err != nil || changed != want {
			t.Fatalf("set #%d: changed %v err %v, want %v", i, changed, err, want)
		}
	}
	if len(events) != 1 || events[0].Action != "edge.save" || events[0].Project != "site" || events[0].Actor != "alice" ||
		!strings.Contains(events[0].Detail, "hsts") || strings.Contains(events[0].Detail, "max-age") || len(told) != 1 {
		t.Fatalf("events %+v, told %v", events, told)
	}
	got, err := f.svc.EdgePolicy(ctx, "site")
	if err != nil || got.RateLimit == nil || got.RateLimit.Requests != 10 || len(got.Headers) != 1 {
		t.Fatalf("stored policy %+v, err %v", got, err)
	}
	all, err := f.svc.EdgePolicies(ctx)
	if err != nil || len(all) != 1 || !strings.Contains(string(all["site"]), `"requests":10`) {
		t.Fatalf("policies %q, err %v", all, err)
	}
	for i, want := range []bool{true, false} {
		if changed, err := f.svc.SetEdgePolicy(ctx, "site", mustEdge(t, `{}`), ""); err != nil || changed != want {
			t.Fatalf("clear #%d: changed %v err %v", i, changed, err)
		}
	}
	if got, err := f.svc.EdgePolicy(ctx, "site"); err != nil || got != nil || len(events) != 2 || events[1].Detail != "no edge policy" {
		t.Fatalf("after clearing: %+v %v, events %+v", got, err, events)
	}
	if _, err := f.svc.EdgePolicy(ctx, "nope"); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("unknown project: %v", err)
	}
}

// TestEdgePolicyCheckAndAuditFailuresChangeNothing: a policy the edge
// cannot apply, or whose audit record cannot be written, is not stored.
func TestEdgePolicyCheckAndAuditFailuresChangeNothing(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.CheckEdge = func(_ context.Context, _ string, e *config.Edge) error {
		if e.WAF.Mode != "off" {
			return errors.New("edge.waf: the firewall is not built into this server yet")
		}
		return nil
	}
	if _, err := f.svc.SetEdgePolicy(ctx, "site", mustEdge(t, `{"waf":{"mode":"block"}}`), ""); err == nil ||
		!strings.Contains(err.Error(), "not built") {
		t.Fatalf("err %v", err)
	}
	f.svc.opts.Audit = func(context.Context, *sql.Tx, Event) error { return errors.New("audit log unavailable") }
	if _, err := f.svc.SetEdgePolicy(ctx, "site", mustEdge(t, `{"rate_limit":{"requests":1}}`), ""); err == nil {
		t.Fatal("stored without its audit record")
	}
	if got, err := f.svc.EdgePolicy(ctx, "site"); err != nil || got != nil {
		t.Fatalf("policy %+v after failed changes, err %v", got, err)
	}
}
