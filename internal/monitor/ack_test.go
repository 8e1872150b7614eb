package monitor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

type auditSink struct {
	mu  sync.Mutex
	evs []AuditEvent
}

func (s *auditSink) record(_ context.Context, tx *sql.Tx, e AuditEvent) error {
	if tx == nil {
		panic("acknowledgement audited outside its transaction")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, e)
	return nil
}

func cpuPoint(m *Monitor, at time.Time, v float64) {
	m.store.Add(Point{Series: "host/cpu", Time: at, Agg: Agg{N: 1, Good: 1, Sum: v, Min: v, Max: v}})
}

func alertByID(t *testing.T, m *Monitor, id string) Alert {
	t.Helper()
	all, err := m.Alerts(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no alert %s in %+v", id, all)
	return Alert{}
}

// TestAcknowledgeLifecycle: an acknowledged firing alert says who, when
// and why; its channels hear of it; its repeat reminders are held back
// (another alert's are not); the resolved message names who was on it;
// and when it fires again it is no longer acknowledged.
func TestAcknowledgeLifecycle(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	sink := &auditSink{}
	m.opts.Audit = sink.record
	ctx := context.Background()
	m.SetRules([]Rule{
		{Name: "HighCPU", Metric: "cpu_usage", Threshold: 80, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1,
			RepeatInterval: time.Hour, Notify: []string{"teams"}},
		{Name: "VeryHighCPU", Metric: "cpu_usage", Threshold: 90, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1,
			RepeatInterval: time.Hour},
	})
	eval := func() {
		t.Helper()
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Acknowledge(ctx, "HighCPU@host", "alice", "x"); usererr.KindOf(err) != usererr.NotFound {
		t.Fatalf("ack of an unknown alert: %v", err)
	}
	cpuPoint(m, clock.Now(), 95)
	clock.Add(time.Second)
	eval()
	a, err := m.Acknowledge(ctx, "HighCPU@host", "alice", "  looking at the runaway build  ")
	if err != nil {
		t.Fatal(err)
	}
	if a.Ack == nil || a.Ack.By != "alice" || a.Ack.Comment != "looking at the runaway build" || !a.Ack.At.Equal(clock.Now()) {
		t.Fatalf("ack = %+v", a.Ack)
	}
	if got := alertByID(t, m, "HighCPU@host"); got.Ack == nil || got.Ack.By != "alice" || got.State != StateFiring {
		t.Fatalf("listed alert: %+v", got)
	}
	last := pub.msgs[len(pub.msgs)-1]
	if last.Event != "alert.acknowledged" || last.Title != "[host] HighCPU acknowledged by alice" ||
		last.Text != "looking at the runaway build" || len(pub.only[len(pub.only)-1]) != 1 {
		t.Fatalf("acknowledgement message: %+v to %v", last, pub.only[len(pub.only)-1])
	}
	if len(sink.evs) != 1 || sink.evs[0] != (AuditEvent{Action: "alert.ack", Target: "HighCPU@host", Actor: "alice", Detail: "looking at the runaway build"}) {
		t.Fatalf("audit: %+v", sink.evs)
	}

	// An hour later both still fire: only the other alert is reminded.
	before := len(pub.msgs)
	clock.Add(time.Hour + time.Second)
	cpuPoint(m, clock.Now(), 95)
	eval()
	reminders := pub.titles()[before:]
	if len(reminders) != 1 || !strings.Contains(reminders[0], "VeryHighCPU firing") {
		t.Fatalf("reminders after an hour: %v", reminders)
	}

	// Resolved: the message names who was on it.
	clock.Add(2 * time.Minute)
	cpuPoint(m, clock.Now(), 10)
	eval()
	var resolved string
	for _, msg := range pub.msgs {
		if msg.Event == "alert.resolved" && strings.Contains(msg.Title, "HighCPU") {
			for _, f := range msg.Facts {
				if f.Name == "Acknowledged" {
					resolved = f.Value
				}
			}
		}
	}
	if !strings.HasPrefix(resolved, "alice at ") || !strings.HasSuffix(resolved, ": looking at the runaway build") {
		t.Fatalf("resolved message's acknowledgement: %q (%v)", resolved, pub.titles())
	}
	if _, err := m.Acknowledge(ctx, "HighCPU@host", "bob", ""); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("ack of a resolved alert: %v", err)
	}
	// Refusals read as what is wrong, without "monitor: acknowledge …" before them.
	if _, err := m.Unacknowledge(ctx, "HighCPU@host", "bob"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		do   func() error
		want string
	}{
		{func() error { _, err := m.Unacknowledge(ctx, "HighCPU@host", "bob"); return err }, "alert HighCPU@host is not acknowledged"},
		{func() error { _, err := m.Unacknowledge(ctx, "Nope@host", "bob"); return err }, "no alert Nope@host"},
		{func() error { _, err := m.Acknowledge(ctx, "Nope@host", "bob", ""); return err }, "no alert Nope@host"},
	} {
		if err := c.do(); err == nil || err.Error() != c.want {
			t.Fatalf("got %v, want %q", err, c.want)
		}
	}

	// It fires again: a new episode nobody is on yet.
	clock.Add(2 * time.Minute)
	cpuPoint(m, clock.Now(), 95)
	eval()
	if got := alertByID(t, m, "HighCPU@host"); got.State != StateFiring || got.Ack != nil {
		t.Fatalf("fired again: %+v, ack %+v", got, got.Ack)
	}
}

// TestUnacknowledge: the acknowledgement goes, audited with who removed
// it; removing a missing one is a conflict.
func TestUnacknowledge(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	sink := &auditSink{}
	m.opts.Audit = sink.record
	ctx := context.Background()
	m.SetRules([]Rule{{Name: "HighCPU", Metric: "cpu_usage", Threshold: 80, Window: time.Minute, FailureThreshold: 2}})
	cpuPoint(m, clock.Now(), 95)
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Acknowledge(ctx, "HighCPU@host", "alice", ""); err != nil { // pending alerts may be acknowledged
		t.Fatal(err)
	}
	a, err := m.Unacknowledge(ctx, "HighCPU@host", "bob")
	if err != nil || a.Ack != nil {
		t.Fatalf("unack: %+v %v", a.Ack, err)
	}
	if got := alertByID(t, m, "HighCPU@host"); got.Ack != nil {
		t.Fatalf("still acknowledged: %+v", got.Ack)
	}
	if _, err := m.Unacknowledge(ctx, "HighCPU@host", "bob"); usererr.KindOf(err) != usererr.Conflict {
		t.Fatalf("second unack: %v", err)
	}
	if len(sink.evs) != 2 || sink.evs[1].Action != "alert.unack" || sink.evs[1].Actor != "bob" {
		t.Fatalf("audit: %+v", sink.evs)
	}
	if _, err := m.Acknowledge(ctx, "HighCPU@host", "alice", strings.Repeat("x", maxAckComment+1)); usererr.KindOf(err) != usererr.Invalid {
		t.Fatalf("an overlong comment: %v", err)
	}
}

func TestAlertID(t *testing.T) {
	for _, c := range []struct{ rule, env, id string }{
		{"HighErrorRate", "production.shop", "HighErrorRate@production.shop"},
		{"cpu", "", "cpu@host"},
		{"a@b", "staging.blog", "a@b@staging.blog"},
	} {
		if got := AlertID(c.rule, c.env); got != c.id {
			t.Errorf("AlertID(%q, %q) = %q", c.rule, c.env, got)
		}
		rule, env, err := ParseAlertID(c.id)
		if err != nil || rule != c.rule || env != c.env {
			t.Errorf("ParseAlertID(%q) = %q, %q, %v", c.id, rule, env, err)
		}
	}
	for _, bad := range []string{"", "rule", "@production.shop", "rule@"} {
		if _, _, err := ParseAlertID(bad); usererr.KindOf(err) != usererr.Invalid || !strings.Contains(err.Error(), "RULE@ENVIRONMENT") {
			t.Errorf("ParseAlertID(%q) = %v", bad, err)
		}
	}
}

// TestAlertIDWithProjectSlashEnv: an id written with the environment as
// 'phoenix status' prints it (shop/production) is refused with the id to
// use, instead of "no alert"; the server's own ids, whose instance holds
// slashes (a backup repository's path), still parse.
func TestAlertIDWithProjectSlashEnv(t *testing.T) {
	_, _, err := ParseAlertID("ProbeAvailability@shop/production")
	var ue *usererr.Error
	if !errors.As(err, &ue) || ue.Kind != usererr.Invalid || !strings.Contains(ue.Hint, "ProbeAvailability@production.shop") {
		t.Fatalf("ParseAlertID(shop/production) = %v (hint %q)", err, hintOf(err))
	}
	if rule, env, err := ParseAlertID("backup-overdue@backup:/mnt/backups/phoenix"); err != nil || rule != "backup-overdue" || env != "backup:/mnt/backups/phoenix" {
		t.Fatalf("a backup alert's id: %q %q %v", rule, env, err)
	}
}

func hintOf(err error) string {
	var ue *usererr.Error
	if errors.As(err, &ue) {
		return ue.Hint
	}
	return ""
}

// FuzzParseAlertID: any text either splits into a rule and environment
// that AlertID joins back, or is refused.
func FuzzParseAlertID(f *testing.F) {
	for _, s := range []string{"HighCPU@host", "a@b@c.d", "@", "x@", "", "é@production.shop"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		rule, env, err := ParseAlertID(id)
		if err != nil {
			return
		}
		if rule == "" || AlertID(rule, env) != id && !(env == "" && id == rule+"@"+hostEnv) {
			t.Fatalf("ParseAlertID(%q) = %q, %q", id, rule, env)
		}
	})
}

// TestAckGoesToTheAlertsRuleChannels: two projects each have a rule
// named Down, each with its own notify list; the acknowledgement of
// shop's alert went to the channels of whichever rule of that name came
// last (blog's pager), not to shop's teams.
func TestAckGoesToTheAlertsRuleChannels(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	down := Rule{Name: "Down", Metric: "availability", Threshold: 99, Window: time.Minute, FailureThreshold: 1}
	shop, blog := down, down
	shop.Environment, shop.Notify = "production.shop", []string{"teams"}
	blog.Environment, blog.Notify = "production.blog", []string{"pager"}
	m.SetRules([]Rule{shop, blog})
	probePoint(m, "production.shop", "home", clock.Now(), false, 40)
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Acknowledge(ctx, "Down@production.shop", "alice", "on it"); err != nil {
		t.Fatal(err)
	}
	if last := pub.msgs[len(pub.msgs)-1]; last.Event != "alert.acknowledged" || fmt.Sprint(pub.only[len(pub.only)-1]) != "[teams]" {
		t.Fatalf("%s went to %v, want shop's rule's [teams]", last.Event, pub.only[len(pub.only)-1])
	}
}
