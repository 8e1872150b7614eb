package report

import (
	"testing"
	"time"
)

// TestAvailabilitySaysSinceWhenMonitoringBeganInTheWindow: production.site
// was first probed 10 minutes after t0; a window from the day before says
// its availability covers only since then (JSON and text), one starting
// after the first probe and request does not.
func TestAvailabilitySaysSinceWhenMonitoringBeganInTheWindow(t *testing.T) {
	f, _ := seed(t)
	for _, tc := range []struct {
		from     time.Time
		since    time.Time
		wantCell string
	}{
		{t0.Add(-24 * time.Hour), t0.Add(10 * time.Minute), "50% since 2026-11-20 10:10"},
		{t0.Add(time.Hour), time.Time{}, "75%"},
	} {
		r := build(t, f, Options{From: tc.from, To: t0.Add(24 * time.Hour)})
		if len(r.Performance.Environments) != 1 {
			t.Fatalf("from %v: environments %+v", tc.from, r.Performance.Environments)
		}
		if e := r.Performance.Environments[0]; !e.Since.Equal(tc.since) {
			t.Errorf("from %v: since %v, want %v", tc.from, e.Since, tc.since)
		}
		if cell := perfBlocks(r.Performance)[0].Rows[0][2]; cell != tc.wantCell {
			t.Errorf("from %v: the availability cell says %q, want %q", tc.from, cell, tc.wantCell)
		}
	}
}
