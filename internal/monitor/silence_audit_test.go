package monitor

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSilencesAreAudited: adding and ending a silence each write one audit
// record in their own transaction, naming who and what; when the audit
// record cannot be written, the silence is not changed either.
func TestSilencesAreAudited(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	sink := &auditSink{}
	m.opts.Audit = sink.record
	ctx := context.Background()
	s, err := m.AddSilence(ctx, Silence{Rule: "High*", Environment: "production.shop", Ends: clock.Now().Add(time.Hour),
		Comment: "CDN migration", CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.ExpireSilence(ctx, s.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if len(sink.evs) != 2 {
		t.Fatalf("audit events = %+v, want 2", sink.evs)
	}
	add, end := sink.evs[0], sink.evs[1]
	target := "silence/" + itoa(s.ID)
	if add.Action != "monitor.silence" || add.Target != target || add.Actor != "alice" ||
		!strings.Contains(add.Detail, "rule=High* env=production.shop") || !strings.HasSuffix(add.Detail, ": CDN migration") {
		t.Errorf("add event = %+v", add)
	}
	if end.Action != "monitor.silence.expire" || end.Target != target || end.Actor != "bob" {
		t.Errorf("expire event = %+v", end)
	}

	refuse := errors.New("audit log unavailable")
	m.opts.Audit = func(context.Context, *sql.Tx, AuditEvent) error { return refuse }
	if _, err := m.AddSilence(ctx, Silence{Ends: clock.Now().Add(time.Hour), Comment: "lost"}); !errors.Is(err, refuse) {
		t.Fatalf("add with a failing audit log: %v", err)
	}
	s2, err := func() (Silence, error) {
		m.opts.Audit = sink.record
		return m.AddSilence(ctx, Silence{Ends: clock.Now().Add(time.Hour), Comment: "kept"})
	}()
	if err != nil {
		t.Fatal(err)
	}
	m.opts.Audit = func(context.Context, *sql.Tx, AuditEvent) error { return refuse }
	if err := m.ExpireSilence(ctx, s2.ID, "bob"); !errors.Is(err, refuse) {
		t.Fatalf("expire with a failing audit log: %v", err)
	}
	active, err := m.Silences(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].ID != s2.ID || active[0].Comment != "kept" {
		t.Fatalf("active silences = %+v: want only the kept one, still active", active)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
