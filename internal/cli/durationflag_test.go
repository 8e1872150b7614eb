package cli

import (
	"strings"
	"testing"
	"time"
)

// TestCompactDuration: tables and --help defaults show durations as users
// write them, not Go's 1h0m0s.
func TestCompactDuration(t *testing.T) {
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
	if err := f.Set("7d"); err == nil {
		t.Error("Set(7d) took a unit time.ParseDuration does not know")
	}
}
