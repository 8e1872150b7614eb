package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// TestPrintReplicas: phoenix status shows each replica's state, role,
// own edge's health and what it serves; nothing on a lone server.
func TestPrintReplicas(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	if err := printReplicas(&b, nil, now); err != nil || b.Len() != 0 {
		t.Fatalf("a lone server printed %q (%v)", b.String(), err)
	}
	rs := []app.ReplicaState{
		{Replica: "http://10.0.0.5:7070", State: app.ReplicaUp, Leader: true, EdgeOK: true, Seen: now.Add(-2 * time.Second),
			Serves: map[string]int64{"production.shop": 42, "staging.shop": 7}},
		{Replica: "http://10.0.0.6:7070", State: app.ReplicaStale, EdgeErr: "the edge at 0.0.0.0:8080 does not answer", Seen: now.Add(-time.Minute)},
		{Replica: "http://10.0.0.7:7070", State: app.ReplicaUp, EdgeOK: true, Seen: now.Add(-time.Second),
			Serves: map[string]int64{"production.shop": 41}, Behind: map[string]time.Time{"production.shop": now.Add(-2 * time.Minute),
				"staging.shop": now.Add(-time.Minute)}},
	}
	if err := printReplicas(&b, rs, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and three rows:\n%s", b.String())
	}
	for i, want := range [][]string{{"replica", "state", "role", "edge", "serves"},
		{"http://10.0.0.5:7070", "up", "leader", "ok", "2s ago", "shop/production=42 shop/staging=7"},
		{"http://10.0.0.6:7070", "stale", "follower", "DOWN: the edge at 0.0.0.0:8080 does not answer", "1m ago", "-"},
		{"http://10.0.0.7:7070", "shop/production=41 (BEHIND 2m) shop/staging=- (BEHIND 1m)"}} {
		for _, w := range want {
			if !strings.Contains(strings.ToLower(lines[i]), strings.ToLower(w)) {
				t.Errorf("line %d %q lacks %q", i, lines[i], w)
			}
		}
	}
}

// TestStatusJSONListsReplicas: phoenix status -o json has the replicas the
// table ends with, beside the environments, with the API's snake_case keys.
func TestStatusJSONListsReplicas(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	seen := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/status":
			json.NewEncoder(w).Encode([]api.EnvReport{{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: "up"}, Project: "shop"}})
		case "/api/v1/replicas":
			json.NewEncoder(w).Encode([]app.ReplicaState{{Replica: "http://10.0.0.5:7070", State: app.ReplicaUp, Leader: true,
				EdgeOK: true, Seen: seen, Serves: map[string]int64{"production.shop": 42}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	out, errs, code := run("status", "-o", "json", "--server", srv.URL, "--token", "t")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Environments []map[string]any `json:"environments"`
		Replicas     []map[string]any `json:"replicas"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(got.Environments) != 1 || got.Environments[0]["environment"] != "production.shop" {
		t.Errorf("environments: %v", got.Environments)
	}
	if len(got.Replicas) != 1 || got.Replicas[0]["replica"] != "http://10.0.0.5:7070" || got.Replicas[0]["leader"] != true ||
		got.Replicas[0]["edge_ok"] != true || got.Replicas[0]["seen_at"] != "2026-11-27T09:00:00Z" {
		t.Errorf("replicas: %v\n%s", got.Replicas, out)
	}
}

// TestStatusSaysReplicasUnread: a failed GET /api/v1/replicas (here the
// server's 500) is said in the table and in -o json's replicas_error,
// never shown as "no replicas"; an older server without the route (404)
// is a lone server.
func TestStatusSaysReplicasUnread(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	replicas := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/status":
			json.NewEncoder(w).Encode([]api.EnvReport{{EnvStatus: monitor.EnvStatus{Environment: "production.shop", Health: "up"}, Project: "shop"}})
		case "/api/v1/replicas":
			w.WriteHeader(replicas)
			json.NewEncoder(w).Encode(map[string]string{"message": "database is locked", "code": "internal"})
		}
	}))
	defer srv.Close()
	out, errs, code := run("status", "--server", srv.URL, "--token", "t")
	if code != 0 || !strings.Contains(out, "REPLICAS  could not be read: database is locked") {
		t.Errorf("exit %d, table:\n%s%s", code, out, errs)
	}
	out, _, _ = run("status", "-o", "json", "--server", srv.URL, "--token", "t")
	var got struct {
		Replicas []any  `json:"replicas"`
		Error    string `json:"replicas_error"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Replicas == nil || got.Error != "database is locked" {
		t.Errorf("json (%v):\n%s", err, out)
	}
	replicas = http.StatusNotFound
	out, _, _ = run("status", "-o", "json", "--server", srv.URL, "--token", "t")
	if strings.Contains(out, "replicas_error") {
		t.Errorf("an older server without the route is a lone server:\n%s", out)
	}
	out, _, _ = run("status", "--server", srv.URL, "--token", "t")
	if strings.Contains(out, "REPLICAS") {
		t.Errorf("table:\n%s", out)
	}
}
