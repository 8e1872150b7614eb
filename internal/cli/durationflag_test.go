package cli

import (
	"strings"
	"testing"
	"time"
)

// TestCompactDuration: tables and --help defaults show durations as users
// write them, not Go's 1h0m0s.
func TestCompactDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", time.Hour: "1h", 2 * time.Minute: "2m", 168 * time.Hour: "168h",
		90 * time.Minute: "1h30m", 90 * time.Second: "1m30s", 5 * time.Second: "5s", time.Hour + time.Second: "1h0m1s",
	} {
		if got := compactDuration(d); got != want {
			t.Errorf("compactDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestHelpShowsNoGoDurations: no --help of any command shows a default
// such as 1h0m0s, and a duration flag still parses what it shows.
func TestHelpShowsNoGoDurations(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"alerts", "silence"}, {"check"}, {"serve"}, {"server"}} {
		out, _, code := run(append(args, "--help")...)
		if code != 0 || strings.Contains(out, "m0s") || strings.Contains(out, "(default 0") {
			t.Errorf("phoenix %s --help: exit %d:\n%s", strings.Join(args, " "), code, out)
		}
	}
	var d time.Duration
	f := (*durationFlag)(&d)
	if err := f.Set("1h30m"); err != nil || d != 90*time.Minute || f.String() != "1h30m" {
		t.Errorf("Set(1h30m): %v, %v, %q", err, d, f.String())
	}
	// Whole days, as the API and the flags of dates take them (a silence
	// --for 1d in docs/monitoring.md); no other unit Go does not know.
	if err := f.Set("7d"); err != nil || d != 7*24*time.Hour {
		t.Errorf("Set(7d): %v, %v", err, d)
	}
	for _, bad := range []string{"1.5d", "-1d", "0d", "1w", "d", "99999d"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%s) took a duration: %v", bad, d)
		}
	}
}
