package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestSilenceOfAnUnknownEnvironmentIsRefused: a silence whose project or
// environment the server does not have (a typo made during an incident)
// would silence nothing while the alerts go on paging; it is refused with
// the environments there are, and nothing is recorded. A known one is made.
func TestSilenceOfAnUnknownEnvironmentIsRefused(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		project, env string
		code         int
		want         string
	}{
		{"shop", "prod", http.StatusNotFound, `no environment \"prod\" in project \"shop\": nothing silenced`},
		{"shpo", "production", http.StatusNotFound, `no project \"shpo\": nothing silenced`},
		{"shop", "production", http.StatusCreated, `"environment": "production.shop"`},
	} {
		code, body, _ := f.call("admin", "POST", "/api/v1/silences", SilenceRequest{Project: c.project, Environment: c.env, For: "1h", Comment: "incident"})
		if code != c.code || !strings.Contains(string(body), c.want) {
			t.Fatalf("silence %s/%s: %d %s; want %d with %s", c.project, c.env, code, body, c.code, c.want)
		}
	}
	if code, body, _ := f.call("admin", "POST", "/api/v1/silences", SilenceRequest{Project: "shop", Environment: "prod", For: "1h", Comment: "x"}); !strings.Contains(string(body), "its environments: production, staging") {
		t.Fatalf("the refusal does not list the environments: %d %s", code, body)
	}
	code, body, _ := f.call("admin", "GET", "/api/v1/silences", nil)
	if code != http.StatusOK || strings.Count(string(body), `"id"`) != 1 {
		t.Fatalf("silences after the refusals: %d %s; want only the one made", code, body)
	}
}
