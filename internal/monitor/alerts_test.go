package monitor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/notify"
)

// fakePublisher records messages. It has a channel "default" for messages
// without a list of channels, unless noChannels (no project's channels
// loaded yet): then those reach nobody and are not recorded.
type fakePublisher struct {
	mu         sync.Mutex
	msgs       []notify.Message
	only       [][]string
	noChannels bool
}

func (p *fakePublisher) Publish(_ context.Context, m notify.Message, only ...string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(only) == 0 {
		if p.noChannels {
			return nil, nil
		}
		only = []string{"default"}
	}
	p.msgs = append(p.msgs, m)
	p.only = append(p.only, only)
	return only, nil
}

func (p *fakePublisher) titles() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.msgs {
		out = append(out, m.Event+" "+m.Title)
	}
	return out
}

func newTestMonitor(t *testing.T) (*Monitor, *fakeClock, *fakePublisher) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	pub := &fakePublisher{}
	m, err := New(Options{DB: openDB(t), Now: clock.Now, Publisher: pub, Proc: "-"})
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, pub
}

func probePoint(m *Monitor, env, name string, at time.Time, ok bool, ms float64) {
	good := int64(0)
	if ok {
		good = 1
	}
	m.store.Add(Point{Series: "probe/" + env + "/" + name, Time: at, Agg: Agg{N: 1, Good: good, Sum: ms, Min: ms, Max: ms}})
}

func TestAlertLifecycle(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	cfg, err := config.Parse([]byte(`project: {name: site}
environments: {production: {}}
notifications:
  channels:
    teams: {type: teams, url: "env:TEAMS_URL"}
monitor:
  alerts:
    - {name: HighErrorRate, metric: requests/failed, threshold: 5, window: PT5M, severity: 0, notify: [teams]}
  alert_config:
    critical:
      - {type: availability, threshold: 99.9, window: 5m}
`), "phoenix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m.SetRules(RulesFromConfig(cfg.Monitor))
	ctx := context.Background()
	eval := func() {
		t.Helper()
		if err := m.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Healthy, then one failed probe: availability 50% < 99.9 breaches.
	probePoint(m, "production", "home", clock.Now(), true, 40)
	eval()
	clock.Add(10 * time.Second)
	probePoint(m, "production", "home", clock.Now(), false, 40)
	eval()
	if a, _ := m.Alerts(ctx, false); len(a) != 1 || a[0].State != StatePending {
		t.Fatalf("after the first breach: %+v", a)
	}
	if len(pub.msgs) != 0 {
		t.Fatalf("pending alert notified: %v", pub.titles())
	}
	clock.Add(5 * time.Second)
	eval()
	if a, _ := m.Alerts(ctx, false); len(a) != 1 || a[0].State != StateFiring {
		t.Fatalf("after the second breach: %+v", a)
	}
	if got := pub.titles(); len(got) != 1 || got[0] != "alert.firing [production] critical-availability firing" {
		t.Fatalf("notifications %v", got)
	}
	if pub.msgs[0].Severity != 0 || !strings.Contains(pub.msgs[0].Text, "availability 50% < 99.9% over 5m") {
		t.Errorf("message %+v", pub.msgs[0])
	}
	// Still breaching: no duplicate until the repeat interval.
	clock.Add(5 * time.Second)
	eval()
	if len(pub.msgs) != 1 {
		t.Fatalf("duplicate notification: %v", pub.titles())
	}
	clock.Add(4 * time.Hour)
	probePoint(m, "production", "home", clock.Now(), false, 40)
	eval()
	if len(pub.msgs) != 2 || pub.msgs[1].Event != "alert.firing" {
		t.Fatalf("no repeat after 4h: %v", pub.titles())
	}
	// Recovery: the failure leaves the window, two good evaluations resolve.
	clock.Add(6 * time.Minute)
	probePoint(m, "production", "home", clock.Now(), true, 40)
	eval()
	if a, _ := m.Alerts(ctx, false); len(a) != 1 {
		t.Fatalf("resolved after one good evaluation: %+v", a)
	}
	clock.Add(5 * time.Second)
	eval()
	if a, _ := m.Alerts(ctx, false); len(a) != 0 {
		t.Fatalf("still open: %+v", a)
	}
	if got := pub.titles(); len(got) != 3 || got[2] != "alert.resolved [production] critical-availability resolved" {
		t.Fatalf("notifications %v", got)
	}
	if text := pub.msgs[2].Text; text != "critical-availability: availability 100% >= 99.9% over 5m" {
		t.Errorf("resolved message says %q", text)
	}
	h, _ := m.History(ctx, 0)
	var states []string
	for i := len(h) - 1; i >= 0; i-- {
		states = append(states, h[i].State)
	}
	if strings.Join(states, ",") != "pending,firing,resolved" {
		t.Errorf("history %v", states)
	}
	if h[0].Summary != "availability 100% >= 99.9% over 5m" || h[1].Summary != "availability 50% < 99.9% over 5m" {
		t.Errorf("history summaries: resolved %q, firing %q", h[0].Summary, h[1].Summary)
	}
}

func TestDescribeSaysWhatHolds(t *testing.T) {
	avail := Rule{Metric: "availability", Threshold: 99.9, Op: "<", Window: time.Minute}
	latency := Rule{Metric: "response_time", Threshold: 500, Op: ">=", Window: 5 * time.Minute}
	cases := []struct {
		r        Rule
		v        float64
		breached bool
		want     string
	}{
		{avail, 97.5, true, "availability 97.5% < 99.9% over 1m"},
		{avail, 100, false, "availability 100% >= 99.9% over 1m"},
		{latency, 700, true, "response_time 700 ms >= 500 ms over 5m"},
		{latency, 120, false, "response_time 120 ms < 500 ms over 5m"},
		{avail, noData, false, "availability: no data over 1m (not breached)"},
	}
	for _, tc := range cases {
		if got := tc.r.describe(tc.v, tc.breached); got != tc.want {
			t.Errorf("describe(%v, %v) = %q, want %q", tc.v, tc.breached, got, tc.want)
		}
	}
}

// A firing alert whose metric has no data any more resolves without
// repeating the breach it fired for.
func TestResolvedForLackOfDataSaysSo(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{{Name: "Slow", Metric: "response_time", Threshold: 100, Window: time.Minute, FailureThreshold: 1, SuccessThreshold: 1}})
	probePoint(m, "production", "home", clock.Now(), true, 900)
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Minute)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pub.msgs) != 2 || pub.msgs[1].Event != "alert.resolved" {
		t.Fatalf("notifications %v", pub.titles())
	}
	if pub.msgs[0].Text != "Slow: response_time 900 ms > 100 ms over 1m" ||
		pub.msgs[1].Text != "Slow: response_time: no data over 1m (not breached)" {
		t.Errorf("firing %q, resolved %q", pub.msgs[0].Text, pub.msgs[1].Text)
	}
}

func TestEdgeRulesGroupAndRouteToChannels(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	m.SetRules([]Rule{
		{Name: "HighErrorRate", Metric: "requests/failed", Threshold: 5, Window: 5 * time.Minute, Severity: 0, FailureThreshold: 1, Notify: []string{"teams"}},
		{Name: "HighLatency", Metric: "requests/duration", Threshold: 1000, Window: 5 * time.Minute, Severity: 1, FailureThreshold: 1, Notify: []string{"teams"}},
		{Name: "ErrorRate", Metric: "error_rate", Threshold: 1, Window: 5 * time.Minute, Severity: 0, FailureThreshold: 1, Environment: "staging"},
	})
	m.store.Add(Point{Series: "edge/production", Time: clock.Now(), Agg: Agg{N: 100, Good: 90, Sum: 150000, Min: 1, Max: 2500}})
	m.store.Add(Point{Series: "edge/staging", Time: clock.Now(), Agg: Agg{N: 100, Good: 100, Sum: 100, Min: 1, Max: 1}})
	clock.Add(time.Second)
	if err := m.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := pub.titles()
	if len(got) != 1 || got[0] != "alert.firing [production] 2 alerts firing: HighErrorRate, HighLatency" {
		t.Fatalf("notifications %v", got)
	}
	if pub.msgs[0].Severity != 0 || len(pub.only[0]) != 1 || pub.only[0][0] != "teams" {
		t.Errorf("severity %d channels %v", pub.msgs[0].Severity, pub.only[0])
	}
}

// TestRateRulesNeedEnoughRequests: one failed request of two on a quiet
// site is no 50 % error rate to page about: with fewer requests in the
// window than MinRequests, error_rate and availability (from the edge)
// have no data and say why; with enough they breach as before. Probes
// are not requests: availability from them needs no floor.
func TestRateRulesNeedEnoughRequests(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{
		{Name: "ErrorRate", Metric: "error_rate", Threshold: 1, Window: 5 * time.Minute, Severity: 0, FailureThreshold: 1, MinRequests: 10},
		{Name: "Availability", Metric: "availability", Threshold: 99.9, Window: 5 * time.Minute, Severity: 0, FailureThreshold: 1, MinRequests: 10},
	})
	m.store.Add(Point{Series: "edge/production", Time: clock.Now(), Agg: Agg{N: 2, Good: 1, Sum: 2, Min: 1, Max: 1}})
	m.store.Add(Point{Series: "probe/staging/home", Time: clock.Now(), Agg: Agg{N: 2, Good: 1, Sum: 2, Min: 1, Max: 1}})
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pub.titles(); len(got) != 1 || got[0] != "alert.firing [staging] Availability firing" {
		t.Fatalf("two requests, one failed: notifications %v (want only the probes' availability on staging)", got)
	}
	alerts, _ := m.Alerts(ctx, true)
	for _, a := range alerts {
		if a.Environment == "production" && a.State != StateInactive || a.Environment == "production" && !strings.Contains(a.Summary, "fewer than 10 requests over 5m") {
			t.Errorf("%s@%s: %s %q", a.Rule, a.Environment, a.State, a.Summary)
		}
	}
	m.store.Add(Point{Series: "edge/production", Time: clock.Now(), Agg: Agg{N: 8, Good: 8, Sum: 8, Min: 1, Max: 1}})
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pub.titles(); len(got) != 2 || got[1] != "alert.firing [production] 2 alerts firing: ErrorRate, Availability" {
		t.Fatalf("ten requests, one failed: notifications %v", got)
	}
}

func TestSilencesAndMaintenance(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	ctx := context.Background()
	m.SetRules([]Rule{{Name: "HighCPU", Metric: "cpu_usage", Threshold: 80, Window: time.Minute, FailureThreshold: 1}})
	if _, err := m.AddSilence(ctx, Silence{Rule: "High*", Ends: clock.Now().Add(time.Hour), Comment: "load test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddSilence(ctx, Silence{Ends: clock.Now().Add(time.Hour)}); err == nil {
		t.Error("a silence without a comment was accepted")
	}
	if _, err := m.AddSilence(ctx, Silence{Kind: KindMaintenance, Environment: "production", Ends: clock.Now().Add(-time.Hour)}); err == nil {
		t.Error("a window ending before it starts was accepted")
	}
	m.store.Add(Point{Series: "host/cpu", Time: clock.Now(), Agg: Agg{N: 1, Good: 1, Sum: 95, Min: 95, Max: 95}})
	clock.Add(time.Second)
	if err := m.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pub.msgs) != 0 {
		t.Fatalf("silenced alert notified: %v", pub.titles())
	}
	a, _ := m.Alerts(ctx, false)
	if len(a) != 1 || a[0].State != StateFiring || !a[0].Silenced {
		t.Fatalf("alerts %+v", a)
	}
	h, _ := m.History(ctx, 1)
	if len(h) != 1 || !h[0].Silenced {
		t.Errorf("history %+v", h)
	}
	if m.InMaintenance(ctx, "production") {
		t.Error("maintenance without a window")
	}
	if _, err := m.AddSilence(ctx, Silence{Kind: KindMaintenance, Environment: "production", Ends: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if !m.InMaintenance(ctx, "production") || m.InMaintenance(ctx, "staging") {
		t.Error("maintenance window not applied to production only")
	}
	sil, _ := m.Silences(ctx, false)
	if err := m.ExpireSilence(ctx, sil[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if err := m.ExpireSilence(ctx, sil[0].ID, "alice"); err == nil {
		t.Error("expired twice")
	}
}

func TestSilenceMatches(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := Silence{Rule: "High*", Environment: "production", Starts: now, Ends: now.Add(time.Hour)}
	cases := []struct {
		rule, env string
		at        time.Time
		want      bool
	}{
		{"HighLatency", "production", now, true},
		{"HighLatency", "staging", now, false},
		{"LowDisk", "production", now, false},
		{"HighLatency", "production", now.Add(time.Hour), false},
		{"HighLatency", "production", now.Add(-time.Second), false},
	}
	for _, tc := range cases {
		t.Run(tc.rule+"/"+tc.env, func(t *testing.T) {
			if got := s.Matches(tc.rule, tc.env, tc.at); got != tc.want {
				t.Errorf("Matches = %v", got)
			}
		})
	}
}

// TestAlertWaitsForAChannel: an alert that fires before any channel takes
// it (a server's first minutes) is offered again at each evaluation and
// announced, once, as soon as one does.
func TestAlertWaitsForAChannel(t *testing.T) {
	m, clock, pub := newTestMonitor(t)
	pub.noChannels = true
	m.SetRules(availabilityRules(t))
	ctx := context.Background()
	eval := stepper(t, m, clock)
	probePoint(m, "production", "home", clock.Now(), false, 40)
	for range 4 {
		eval()
	}
	if a, _ := m.Alerts(ctx, false); len(a) != 1 || a[0].State != StateFiring || !a[0].LastNotified.IsZero() {
		t.Fatalf("firing without a channel: %+v", a)
	}
	pub.mu.Lock()
	pub.noChannels = false
	pub.mu.Unlock()
	eval()
	eval()
	if got := pub.titles(); len(got) != 1 || got[0] != "alert.firing [production] critical-availability firing" {
		t.Fatalf("once a channel takes it: %v", got)
	}
}
