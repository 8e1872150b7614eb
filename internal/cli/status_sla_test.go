package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// TestStatusSaysSinceWhenMonitoredLately: 'phoenix status' marks the SLA
// figures of an environment monitored for two days whose period is longer
// (7d, 30d), says since when, and leaves one monitored longer unmarked.
func TestStatusSaysSinceWhenMonitoredLately(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	v := 99.95
	ep := func(since time.Time) []monitor.EndpointStatus {
		return []monitor.EndpointStatus{{Name: "home", Up: true, SLA: monitor.SLA{Day: &v, Week: &v, Month: &v, Since: since}}}
	}
	since := now.Add(-47 * time.Hour)
	rs := []api.EnvReport{
		{EnvStatus: monitor.EnvStatus{Environment: "production.blog", Health: "up", Endpoints: ep(time.Time{}), SLA: monitor.SLA{Day: &v, Week: &v, Month: &v}}},
		{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: "up", Endpoints: ep(since), SLA: monitor.SLA{Day: &v, Week: &v, Month: &v, Since: since}}},
	}
	var b strings.Builder
	if err := printStatus(&b, rs, now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 8 {
			rows[f[0]] = strings.Join(f[5:], " ")
		}
	}
	if rows["blog/production"] != "99.950% 99.950% 99.950%" || rows["shop/production"] != "99.950% 99.950%* 99.950%*" {
		t.Errorf("SLA cells: blog %q, shop %q (only shop's 7d and 30d are partial)", rows["blog/production"], rows["shop/production"])
	}
	for _, want := range []string{
		"* shop/production monitored since 2026-11-23 11:00 UTC: the SLA covers only that",
		"shop/production/home  0 ms  (since 2026-11-23 11:00 99.950%)",
		"blog/production/home  0 ms  (30d 99.950%)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestStatusSaysAnAlertIsSilencedOrAcknowledged: 'phoenix status' lists a
// firing alert with what 'phoenix alerts' shows beside its state: that a
// silence holds it back and who is on it. It showed only FIRING, so the
// status read as an alert nobody had answered.
func TestStatusSaysAnAlertIsSilencedOrAcknowledged(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	at := time.Date(2026, 11, 25, 9, 14, 0, 0, time.Local)
	rs := []api.EnvReport{{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: "degraded", Alerts: []monitor.Alert{
		{Rule: "Down", State: "firing", Summary: "availability 8% < 99% over 1m", Silenced: true,
			Ack: &monitor.Ack{By: "alice", At: at, Comment: "rolling back"}},
		{Rule: "Slow", State: "pending", Summary: "latency 1200ms > 1000ms over 5m"},
	}}}}
	var b strings.Builder
	if err := printStatus(&b, rs, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"shop/production FIRING Down: availability 8% < 99% over 1m (silenced; acknowledged by alice 09:14: rolling back)\n",
		"shop/production PENDING Slow: latency 1200ms > 1000ms over 5m\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
}

// TestStatusSaysWhyHealthIsUnknown: an environment no probe reported on shows
// health unknown, and a line says why and what to add; one with probes
// does not get it.
func TestStatusSaysWhyHealthIsUnknown(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rs := []api.EnvReport{
		{EnvStatus: monitor.EnvStatus{Environment: "staging.shop", Health: monitor.HealthUnknown}},
		{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: monitor.HealthUp, Endpoints: []monitor.EndpointStatus{{Name: "home", Up: true}}}},
	}
	var b strings.Builder
	if err := printStatus(&b, rs, now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "  shop/staging: health unknown: no probe has reported on it yet (monitor.endpoints in phoenix.yaml)\n") ||
		strings.Contains(out, "shop/production: health unknown") {
		t.Errorf("status:\n%s", out)
	}
}

// TestStatusTimesInLocalZone: 'phoenix status' showed LIVE SINCE and the
// probes' since in UTC, unmarked, beside an acknowledgement in the local
// zone on the same screen, while 'phoenix alerts', 'phoenix projects' and
// 'phoenix deployments' show the local zone: two hours east of UTC, a
// release live since 09:00 read as going live two hours before the alert
// acknowledged at 11:05 that it caused. Every time it shows is local, the
// note's with its zone.
func TestStatusTimesInLocalZone(t *testing.T) {
	t.Parallel()
	if !inZoneEastOfUTC(t) { // alerts_ack_test.go
		return
	}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	live, since := now.Add(-time.Hour), now.Add(-47*time.Hour)
	v := 99.95
	rs := []api.EnvReport{{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: "degraded",
		Endpoints: []monitor.EndpointStatus{{Name: "home", Up: true, SLA: monitor.SLA{Day: &v, Week: &v, Month: &v, Since: since}}},
		Alerts: []monitor.Alert{{Rule: "Down", State: "firing", Summary: "availability 8% < 99% over 1m",
			Ack: &monitor.Ack{By: "alice", At: now.Add(5 * time.Minute), Comment: "rolling back"}}},
		SLA: monitor.SLA{Day: &v, Week: &v, Month: &v, Since: since}}, Release: "v1", LiveSince: &live}}
	var b strings.Builder
	if err := printStatus(&b, rs, now); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		" 2026-11-25 11:00 ", // live since 09:00 UTC
		"(acknowledged by alice 12:05: rolling back)",
		"* shop/production monitored since 2026-11-23 13:00 UTC+2: the SLA covers only that",
		"(since 2026-11-23 13:00 99.950%)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
