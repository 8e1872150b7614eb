package web

import (
	"testing"
	"time"
)

// TestRelDurationRounds: relative times round to the nearest unit, so a
// silence of 2h ends "2 h from now" just after it began, not "1 h".
func TestRelDurationRounds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		3 * time.Second:                       "just now",
		-(2*time.Hour - time.Second):          "2 h from now",
		90*time.Minute + time.Second:          "2 h ago",
		59*time.Minute + 50*time.Second:       "1 h ago",
		89 * time.Second:                      "1 min ago",
		59*time.Second + 700*time.Millisecond: "1 min ago",
		-(6*24*time.Hour + 23*time.Hour):      "7 days from now",
		47*time.Hour + 40*time.Minute:         "2 days ago",
		40 * time.Second:                      "40s ago",
	} {
		if got := relDuration(d); got != want {
			t.Errorf("relDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
