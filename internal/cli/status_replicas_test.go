package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/app"
)

// TestPrintReplicas: phoenix status shows each replica's state, role,
// own edge's health and what it serves; nothing on a lone server.
func TestPrintReplicas(t *testing.T) {
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
