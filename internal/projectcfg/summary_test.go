package projectcfg

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// TestSummarizeNamesOnly: a summary names the probes, alert rules,
// channels and health checks and where the file came from, and shows no
// URL nor secret reference.
func TestSummarizeNamesOnly(t *testing.T) {
	cfg, err := config.Parse([]byte(`project: {name: shop}
environments:
  production: {health_checks: [{name: ready, url: /ready}]}
  staging: {}
monitor:
  endpoints: [{name: home, environment: production, url: "https://shop.example.com/"}]
  alerts: [{name: Down, metric: availability, threshold: 99}]
notifications:
  channels:
    team: {type: teams, url: "secret:TEAMS_URL"}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	s := Summarize("shop", &Entry{Project: "shop", Kind: Deploy, Actor: "alice"}, cfg, nil)
	if s.From != "phoenix deploy by alice" || !slices.Equal(s.Probes, []string{"home"}) || !slices.Equal(s.AlertRules, []string{"Down"}) ||
		!slices.Equal(s.Channels, []string{"team"}) || len(s.HealthChecks) != 1 || !slices.Equal(s.HealthChecks["production"], []string{"ready"}) {
		t.Fatalf("summary %+v", s)
	}
	js, _ := json.Marshal(s)
	for _, leak := range []string{"example.com", "TEAMS_URL", "/ready"} {
		if strings.Contains(string(js), leak) {
			t.Errorf("the summary shows %q: %s", leak, js)
		}
	}
	if s := Summarize("shop", nil, cfg, nil); s.From != LatestRun || s.Entry != nil {
		t.Fatalf("without a stored entry: %+v", s)
	}
}
