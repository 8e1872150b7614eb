package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPublicPageHidesProbeErrors: the public status page and its JSON say
// how an endpoint is down in neutral terms and never show what the probe's
// error names (internal hosts, addresses, certificate detail); Status, which
// the authenticated API and dashboard read, keeps the error.
func TestPublicPageHidesProbeErrors(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	ctx := context.Background()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	p := NewProber()
	t.Cleanup(p.Close)
	record := func(name string, r Result) {
		tgt := Target{Name: name, Environment: "production.shop"}
		r.Target, r.Name, r.Environment, r.Time = tgt.ID(), name, tgt.Environment, clock.Now()
		m.record(tgt, r)
	}
	for name, url := range map[string]string{"web": "http://127.0.0.1:1/", "health": down.URL + "/health"} {
		tgt, err := Target{Name: name, Environment: "production.shop", URL: url}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		tgt.Retries = 0
		record(name, p.Probe(ctx, tgt))
	}
	raw := map[string]string{ // errors as probes have written them
		"api":    "dial tcp 10.0.3.7:8080: connect: no route to host",
		"db":     "dns: no such host db.internal.corp",
		"cdn":    "tls: x509: certificate is valid for api.internal.corp, not www.example.com",
		"search": "timeout: no complete answer within 10s",
		"status": `condition failed: [BODY].status == UP (got "DOWN: pg at 10.0.3.9 refused")`,
	}
	for name, e := range raw {
		record(name, Result{Error: e, Status: map[bool]int{true: 200}[name == "status"]})
	}
	if err := m.flush(ctx); err != nil {
		t.Fatal(err)
	}
	h := m.PublicHandler(PageOptions{})
	for _, path := range []string{"/", "/status.json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		body := rec.Body.String()
		for _, secret := range []string{"127.0.0.1", "10.0.3.7", "10.0.3.9", "internal.corp", "x509", "dial tcp", "refused", "got 503"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q:\n%s", path, secret, body)
			}
		}
		for _, want := range []string{"unreachable", "HTTP 503", "DNS error", "TLS error", "timed out", "check failed"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s does not say %q", path, want)
			}
		}
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 1 {
		t.Fatalf("status %+v (%v)", st, err)
	}
	for _, ep := range st[0].Endpoints {
		if want, ok := raw[ep.Name]; ok && ep.Error != want {
			t.Errorf("%s: the API's status says %q, want the probe's error %q", ep.Name, ep.Error, want)
		}
	}
}

// TestCertificateDaysLeft: an endpoint's certificate lifetime is a whole
// number of days, cert_days_left, in the status JSON (as a certificate's
// days_left in the API), not a string such as "45d"; the page shows 45d.
func TestCertificateDaysLeft(t *testing.T) {
	m, clock, _ := newTestMonitor(t)
	ctx := context.Background()
	tgt := Target{Name: "web", Environment: "production.shop"}
	m.record(tgt, Result{Target: tgt.ID(), Name: "web", Environment: tgt.Environment, Time: clock.Now(), Success: true,
		Status: 200, CertExpiry: 45*24*time.Hour + 3*time.Hour})
	if err := m.flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 1 || len(st[0].Endpoints) != 1 {
		t.Fatalf("status %+v (%v)", st, err)
	}
	b, _ := json.Marshal(st[0].Endpoints[0])
	if !strings.Contains(string(b), `"cert_days_left":45`) || strings.Contains(string(b), `"cert_expiry"`) {
		t.Errorf("endpoint JSON: %s", b)
	}
	rec := httptest.NewRecorder()
	m.PublicHandler(PageOptions{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "certificate 45d") {
		t.Errorf("status page does not say certificate 45d:\n%s", rec.Body.String())
	}
}
