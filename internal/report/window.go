package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixvc/phoenix/internal/usererr"
)

// DefaultWindow is the report's length when no start is given.
const DefaultWindow = 30 * 24 * time.Hour

// MaxWindow is the longest window: the hourly metrics are kept 400 days.
const MaxWindow = 400 * 24 * time.Hour

// ParseWindow reads a window's bounds. Each is empty (from: to minus 30
// days; to: now), a date (2026-11-01, midnight UTC; as the end, the end of
// that day), an RFC 3339 time, or a duration back from now (30d, 12h, 2w).
// field names the parameter in errors ("from" or "--from").
func ParseWindow(from, to string, now time.Time, fromField, toField string) (time.Time, time.Time, error) {
	end := now.UTC()
	if to != "" {
		t, err := parseBound(to, now, true)
		if err != nil {
			return time.Time{}, time.Time{}, windowErr(toField, to, err)
		}
		end = t
	}
	start := end.Add(-DefaultWindow)
	if from != "" {
		t, err := parseBound(from, now, false)
		if err != nil {
			return time.Time{}, time.Time{}, windowErr(fromField, from, err)
		}
		start = t
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, usererr.New(usererr.Invalid, "%s is not before %s",
			bound(fromField, from, start), bound(toField, to, end)).WithHint("give a start before the end")
	}
	if end.Sub(start) > MaxWindow {
		return time.Time{}, time.Time{}, usererr.New(usererr.Invalid, "the window from %s to %s is longer than 400 days",
			start.Format(time.DateOnly), end.Format(time.DateOnly)).WithHint("hourly metrics are kept 400 days: ask for a shorter window")
	}
	return start, end, nil
}

// bound names a window's bound in an error as it was typed (a date as the
// end is through that day: "--to 2026-09-01" rather than the midnight
// after it), or the default it took.
func bound(field, typed string, t time.Time) string {
	if typed == "" {
		return field + " (default " + t.Format(time.RFC3339) + ")"
	}
	return field + " " + typed
}

func windowErr(field, v string, err error) error {
	return usererr.New(usererr.Invalid, "%s %q: %v", field, v, err).
		WithHint("write a date (2026-11-01), a time (2026-11-01T08:00:00Z) or a duration back from now (30d, 12h, 2w)")
}

func parseBound(s string, now time.Time, end bool) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.Add(24 * time.Hour)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := ParseAgo(s)
	if err != nil {
		return time.Time{}, err
	}
	return now.UTC().Add(-d), nil
}

// ParseAgo reads a duration such as 30d, 2w, 12h or 90m.
func ParseAgo(s string) (time.Duration, error) {
	unit := map[byte]time.Duration{'w': 7 * 24 * time.Hour, 'd': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute}
	if len(s) < 2 || unit[s[len(s)-1]] == 0 {
		return 0, fmt.Errorf("not a date, time or duration such as 30d")
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 100000 {
		return 0, fmt.Errorf("not a date, time or duration such as 30d")
	}
	return time.Duration(n) * unit[s[len(s)-1]], nil
}

// ParseSections checks section names (each may be comma-separated) and
// returns them in report order without repeats; none means all.
func ParseSections(in []string) ([]string, error) {
	var want []string
	for _, v := range in {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(strings.ToLower(s))
			if s == "" {
				continue
			}
			if !slices.Contains(AllSections, s) {
				return nil, usererr.New(usererr.Invalid, "section %q: there is no such section", s).
					WithHint("sections are %s", strings.Join(AllSections, ", "))
			}
			want = append(want, s)
		}
	}
	if len(want) == 0 {
		return slices.Clone(AllSections), nil
	}
	var out []string
	for _, s := range AllSections {
		if slices.Contains(want, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
