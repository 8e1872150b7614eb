package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/audit"
)

// TestEdgePolicyAPI: set, read back, unchanged (no write, no record),
// refused for a viewer, bad input naming the field, cleared with {}.
// Runs on PostgreSQL with PHOENIX_TEST_DATABASE=postgres.
func TestEdgePolicyAPI(t *testing.T) {
	f := newFixture(t)
	path := "/api/v1/projects/shop/edge"
	saves := func() []audit.Record {
		t.Helper()
		recs, err := f.log.Query(bg, audit.Filter{Action: "edge.save"})
		if err != nil {
			t.Fatal(err)
		}
		var ok []audit.Record // refusals are recorded as failed attempts
		for _, r := range recs {
			if r.Outcome == audit.OK {
				ok = append(ok, r)
			}
		}
		return ok
	}
	policy := []byte(`{"headers":[{"name":"hsts","order":1,"match":{"scheme":"https","path":"/*"},
		"set":{"Strict-Transport-Security":"max-age=31536000"}}],"rate_limit":{"requests":600,"per":"1m","burst":100,"exempt":["10.0.0.0/8"]}}`)
	if code, body, _ := f.call("viewer", "PUT", path, json.RawMessage(policy)); code != http.StatusForbidden {
		t.Fatalf("viewer set the policy: %d %s", code, body)
	}
	for i := range 2 {
		code, body, _ := f.call("admin", "PUT", path, json.RawMessage(policy))
		if code != 200 || !strings.Contains(string(body), `"per": "1m0s"`) {
			t.Fatalf("put #%d: %d %s", i, code, body)
		}
	}
	recs := saves()
	if len(recs) != 1 || recs[0].Actor != "admin" || !strings.Contains(recs[0].Detail, "1 header rule(s) hsts") ||
		!strings.Contains(recs[0].Detail, "rate limit 600 per 1m,") {
		t.Fatalf("audit records %+v, want one for the change only", recs)
	}
	code, body, _ := f.call("viewer", "GET", path, nil)
	if code != 200 || !strings.Contains(string(body), `"Strict-Transport-Security": "max-age=31536000"`) {
		t.Fatalf("get: %d %s", code, body)
	}
	// A contributor may send it unchanged (phoenix deploy does), not change it.
	if code, body, _ := f.call("contributor", "PUT", path, json.RawMessage(body)); code != 200 {
		t.Fatalf("contributor resending it unchanged: %d %s", code, body)
	}
	if code, _, _ := f.call("contributor", "PUT", path, map[string]any{}); code != http.StatusForbidden {
		t.Fatalf("contributor cleared it: %d", code)
	}
	for _, c := range []struct{ body, field string }{
		{`{"rate_limit":{"requests":5,"per":"-1s"}}`, "edge.rate_limit.per"},
		{`{"rate_limit":{"requests":5,"exempt":["ten"]}}`, "edge.rate_limit.exempt[0]"},
		{`{"headers":[{"name":"x","match":{"scheme":"gopher"},"set":{"A":"b"}}]}`, "edge.headers[0].match.scheme"},
		{`{"headerz":[]}`, "edge.headerz"},
		{`not json`, "edge"},
		{``, "request body: empty"},
	} {
		code, body, _ := f.call("admin", "PUT", path, []byte(c.body))
		var e Error
		_ = json.Unmarshal(body, &e)
		if code != http.StatusBadRequest || !strings.Contains(e.Message, c.field) || e.Code != "invalid" {
			t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.field)
		}
	}
	if code, body, _ := f.call("admin", "PUT", path, map[string]any{}); code != 200 || strings.TrimSpace(string(body)) != "{}" {
		t.Fatalf("clear: %d %s", code, body)
	}
	if got, err := f.dep.EdgePolicy(bg, "shop"); err != nil || got != nil || len(saves()) != 2 {
		t.Fatalf("after clearing: %+v %v, %d records", got, err, len(saves()))
	}
}
