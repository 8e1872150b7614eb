package edge

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHealthAndMetrics(t *testing.T) {
	site := mustSite(t, basicSite)
	e := newTestEdge(t, site, Options{})
	if err := e.hosts.AddHost("www.example.test", "prod"); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/", nil)
	e.get(t, "/missing", nil)
	e.get(t, "/%2e%2e/x", nil)
	admin := map[string]string{"Host": DefaultAdminHost}

	h := e.get(t, "/health", admin)
	var health Health
	if err := json.Unmarshal([]byte(h.body), &health); err != nil || health.Status != "ok" || len(health.Envs) != 1 ||
		health.Envs[0].Release != site.ID() || health.Envs[0].Hosts[0] != "www.example.test" {
		t.Fatalf("/health = %s (%v)", h.body, err)
	}

	m := e.get(t, "/metrics", admin)
	for _, want := range []string{
		`phoenix_edge_requests_total{env="prod",release="` + site.ID() + `",class="2xx"} 1`,
		`phoenix_edge_requests_total{env="prod",release="` + site.ID() + `",class="4xx"} 2`,
		`phoenix_edge_request_duration_seconds_count{env="prod"} 3`,
		`# TYPE phoenix_edge_request_duration_seconds histogram`,
		`phoenix_edge_request_duration_seconds_bucket{env="prod",le="+Inf"} 3`,
	} {
		if !strings.Contains(m.body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m.body)
		}
	}
	snap := e.h.Snapshot()
	if len(snap) != 2 || snap[0].Requests != 3 || snap[0].BytesSent != uint64(len("<h1>home</h1>")) || snap[1].Env != "" {
		t.Fatalf("Snapshot = %+v", snap)
	}
	if r := e.get(t, "/", admin); r.status != 404 {
		t.Fatalf("admin host served a site path: %d", r.status)
	}
	if r := e.get(t, "/metrics", nil); r.status != 404 {
		t.Fatalf("/metrics leaked onto a site host: %d", r.status)
	}
}
