package action

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
)

// Health checks written as paths go to the server's own edge with its
// probe marker (EnvHeaders); a check with a full URL goes out as written,
// without it, so the marker never leaves the server.
func TestHealthCheckMarksOnlyLocalProbes(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("X-Phoenix-Probe")
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := &config.Config{Environments: map[string]*config.Environment{"production": {HealthChecks: []config.Endpoint{
		{Name: "local", URL: "/health"}, {Name: "public", URL: srv.URL + "/public"}}}}}
	d := &Deps{EnvURL: func(string, string) string { return srv.URL + "/" }, EnvHeaders: map[string]string{"X-Phoenix-Probe": "tok"}}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	sc.With["environment"] = "production"
	if err := d.healthCheck(context.Background(), sc); err != nil {
		t.Fatalf("health check: %v\n%s", err, log)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["/health"] != "tok" || seen["/public"] != "" {
		t.Fatalf("probe markers seen %q; want tok on /health only", seen)
	}
}

// An edge serving HTTPS on its one listener is health-checked through
// its *.localhost name although its certificate is for the public names;
// a full URL whose certificate does not verify still fails.
func TestHealthCheckTLSOnTheLocalEdge(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	cfg := &config.Config{Environments: map[string]*config.Environment{"production": {HealthChecks: []config.Endpoint{{Name: "home", URL: "/"}}}}}
	d := &Deps{EnvURL: func(string, string) string { return "https://production.shop.localhost:" + port + "/" }}
	sc, log, _ := newContext(t, t.TempDir(), cfg, nil)
	sc.With["environment"] = "production"
	if err := d.healthCheck(context.Background(), sc); err != nil {
		t.Fatalf("health check of the local edge over TLS: %v\n%s", err, log)
	}
	cfg.Environments["production"].HealthChecks[0].URL = srv.URL + "/" // 127.0.0.1: httptest's certificate is not trusted
	sc, _, _ = newContext(t, t.TempDir(), cfg, nil)
	sc.With["environment"], sc.With["attempts"] = "production", 1
	if err := d.healthCheck(context.Background(), sc); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a public URL with an untrusted certificate: %v", err)
	}
}
