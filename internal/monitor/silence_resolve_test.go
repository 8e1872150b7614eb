package monitor

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestSilencedAfterFiringStillResolves: an alert announced firing and
// then silenced is announced resolved when it resolves (the channel would
// show it firing for ever otherwise); one silenced before it was ever
// announced resolves without a lone "resolved".
func TestSilencedAfterFiringStillResolves(t *testing.T) {
	for _, tc := range []struct {
		name          string
		silenceBefore bool
		want          []string
	}{
		{"silenced after it fired", false, []string{
			"alert.firing [production] critical-availability firing",
			"alert.resolved [production] critical-availability resolved"}},
		{"silenced before it fired", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, clock, pub := newTestMonitor(t)
			m.SetRules(availabilityRules(t))
			ctx := context.Background()
			eval := stepper(t, m, clock)
			silence := func() {
				t.Helper()
				if _, err := m.AddSilence(ctx, Silence{Rule: "critical-*", Environment: "production", Ends: clock.Now().Add(24 * time.Hour), Comment: "on it"}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.silenceBefore {
				silence()
			}
			probePoint(m, "production", "home", clock.Now(), false, 40)
			eval()
			eval()
			if a, _ := m.Alerts(ctx, false); len(a) != 1 || a[0].State != StateFiring {
				t.Fatalf("alerts %+v, want one firing", a)
			}
			if !tc.silenceBefore {
				silence()
			}
			clock.Add(10 * time.Minute) // the failure leaves the window
			probePoint(m, "production", "home", clock.Now(), true, 40)
			eval()
			eval()
			if a, _ := m.Alerts(ctx, false); len(a) != 0 {
				t.Fatalf("still open: %+v", a)
			}
			if got := pub.titles(); !slices.Equal(got, tc.want) {
				t.Errorf("notifications %q, want %q", got, tc.want)
			}
		})
	}
}
