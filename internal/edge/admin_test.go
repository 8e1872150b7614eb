package edge

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
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
	// snake_case, the uptime in seconds, as the API's /api/v1/health
	if !strings.Contains(h.body, `"uptime_seconds":`) || !strings.Contains(h.body, `"activated_at":`) ||
		strings.Contains(h.body, `"uptime":`) || strings.Contains(h.body, `"activatedAt":`) {
		t.Errorf("/health = %s, want uptime_seconds and activated_at", h.body)
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

// TestMetricsOnlyForLoopbackAndAllowed: /metrics answers loopback peers
// and Options.MetricsAllow, 403 to anyone else (X-Forwarded-For does not
// help, even from a trusted proxy); /health answers everyone, with what
// each environment serves only for the same peers.
func TestMetricsOnlyForLoopbackAndAllowed(t *testing.T) {
	h := newTestEdge(t, mustSite(t, basicSite), Options{
		MetricsAllow:   []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("198.51.100.7/32")},
	}).h
	for _, tc := range []struct {
		peer, forwarded string
		want            int
	}{
		{"127.0.0.1:5000", "", 200},
		{"[::1]:5000", "", 200},
		{"[::ffff:127.0.0.1]:5000", "", 200},
		{"192.0.2.44:5000", "", 200},             // allowed
		{"203.0.113.9:5000", "", 403},            // anyone else
		{"198.51.100.7:5000", "192.0.2.44", 403}, // a trusted proxy forwarding an allowed address
		{"203.0.113.9:5000", "127.0.0.1", 403},   // a forged header
		{"garbage", "", 403},
	} {
		r := httptest.NewRequest(http.MethodGet, "http://"+DefaultAdminHost+"/metrics", nil)
		r.RemoteAddr = tc.peer
		if tc.forwarded != "" {
			r.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("/metrics from %s (X-Forwarded-For %q): %d, want %d", tc.peer, tc.forwarded, w.Code, tc.want)
		}
		if tc.want == 403 && strings.Contains(w.Body.String(), "phoenix_edge") {
			t.Errorf("/metrics from %s leaked figures: %s", tc.peer, w.Body.String())
		}
		r = httptest.NewRequest(http.MethodGet, "http://"+DefaultAdminHost+"/health", nil)
		r.RemoteAddr = tc.peer
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("/health from %s: %d, want 200 (balancers probe it)", tc.peer, w.Code)
		}
		if full := strings.Contains(w.Body.String(), `"envs"`); full != (tc.want == 200) {
			t.Errorf("/health from %s: %s (the environments only for loopback and MetricsAllow)", tc.peer, w.Body.String())
		}
	}
}
