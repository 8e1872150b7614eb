package report

import (
	"testing"
	"time"
)

// FuzzParseWindow: any from/to/sections either parse into a window of at
// most 400 days with start before end, or fail with an error; never panic.
func FuzzParseWindow(f *testing.F) {
	for _, s := range [][3]string{{"30d", "", "performance"}, {"2026-11-01", "2026-11-30", "audit,access"}, {"2026-11-01T08:00:00Z", "12h", ""},
		{"yesterday", "", ""}, {"99999999d", "", "x"}, {"0d", "-1d", ","}} {
		f.Add(s[0], s[1], s[2])
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, from, to, sections string) {
		a, b, err := ParseWindow(from, to, now, "from", "to")
		if err == nil && (!a.Before(b) || b.Sub(a) > MaxWindow) {
			t.Fatalf("%q %q: window %v to %v", from, to, a, b)
		}
		if secs, err := ParseSections([]string{sections}); err == nil && len(secs) == 0 {
			t.Fatalf("%q: no sections", sections)
		}
	})
}
