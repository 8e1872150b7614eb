package action

import (
	"context"
	"net/http"
	"net/http/httptest"
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
