package web

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// TestSLAShowsSinceWhenMonitoredLately: an environment monitored for less
// than the SLA's 30 days says since when on the overview and its page; one
// monitored longer does not.
func TestSLAShowsSinceWhenMonitoredLately(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	v := 99.5
	since := time.Date(2026, 11, 23, 10, 17, 0, 0, time.UTC)
	for _, tc := range []struct {
		since time.Time
		want  bool
	}{{since, true}, {time.Time{}, false}} {
		rep := &api.EnvReport{Project: "shop", Name: "production", EnvStatus: monitor.EnvStatus{Health: monitor.HealthUp,
			SLA: monitor.SLA{Day: &v, Week: &v, Month: &v, Since: tc.since}}}
		pages := map[string]any{
			"overview":    overviewData{Projects: []projectView{{Name: "shop", Envs: []envView{{EnvReport: *rep}}}}},
			"environment": envData{Project: "shop", Name: "production", Env: &envInfo{}, Report: rep},
		}
		for name, data := range pages {
			var b strings.Builder
			if err := p.execute(&b, name, &view{Data: data}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(b.String(), "monitored since 2026-11-23 10:17:00 UTC"); got != tc.want {
				t.Errorf("%s with SLA since %v says since when: %v, want %v", name, tc.since, got, tc.want)
			}
		}
	}
}
