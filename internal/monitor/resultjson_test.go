package monitor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestResultJSONInUnits: a probe's result, stored in monitor_last, writes
// its latency as duration_ms and its certificate's time left as
// cert_seconds_left (never Go's nanoseconds), reads them back, and still
// reads a result stored before with duration and cert_expiry in
// nanoseconds: the status keeps its response time and certificate days.
func TestResultJSONInUnits(t *testing.T) {
	r := Result{Target: "production.shop/web", Name: "web", Environment: "production.shop", Success: true, Status: 200,
		Duration: 1500 * time.Microsecond, CertExpiry: 311 * time.Hour, Attempts: 1}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"duration_ms":1.5`) || !strings.Contains(s, `"cert_seconds_left":1119600`) ||
		strings.Contains(s, `"duration":`) || strings.Contains(s, `"cert_expiry"`) || !strings.Contains(s, `"target":"production.shop/web"`) {
		t.Fatalf("result JSON: %s", s)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || back.Duration != r.Duration || back.CertExpiry != r.CertExpiry || back.Name != "web" {
		t.Fatalf("read back %+v (%v)", back, err)
	}
	if b, _ := json.Marshal(Result{}); strings.Contains(string(b), "cert_seconds_left") {
		t.Errorf("a result without TLS: %s", b)
	}

	// a result an older server stored, read by the status
	m, clock, _ := newTestMonitor(t)
	ctx := context.Background()
	old := `{"target":"production.shop/web","name":"web","environment":"production.shop","time":"` + clock.Now().Format(time.RFC3339Nano) +
		`","success":true,"duration":1500000,"status":200,"cert_expiry":1119600000000000,"attempts":1}`
	if _, err := m.opts.DB.ExecContext(ctx, `INSERT INTO monitor_last (target, environment, name, at, success, result) VALUES ($1, $2, $3, $4, $5, $6)`,
		"production.shop/web", "production.shop", "web", clock.Now().UnixMilli(), 1, old); err != nil {
		t.Fatal(err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st) != 1 || len(st[0].Endpoints) != 1 {
		t.Fatalf("status %+v (%v)", st, err)
	}
	ep := st[0].Endpoints[0]
	if ep.ResponseMS != 1.5 || ep.CertDaysLeft == nil || *ep.CertDaysLeft != 13 {
		t.Errorf("status of the stored result: %+v", ep)
	}
}

// TestVerifyResultJSONInUnits: a verification's verdict writes its p95
// latencies in milliseconds, its soak in seconds and a check's
// certificate time left in seconds, as the keys say.
func TestVerifyResultJSONInUnits(t *testing.T) {
	v := VerifyResult{Environment: "production", OK: true, P95: 42 * time.Millisecond, Duration: 10 * time.Second,
		Checks: []CheckResult{{Name: "web", OK: true, P95: 40 * time.Millisecond, CertExpiry: 48 * time.Hour}}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"p95_ms":42`, `"duration_seconds":10`, `"p95_ms":40`, `"cert_seconds_left":172800`, `"environment":"production"`, `"name":"web"`} {
		if !strings.Contains(s, want) {
			t.Errorf("verdict JSON lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, `"p95":`) || strings.Contains(s, `"duration":`) || strings.Contains(s, `"cert_expiry"`) {
		t.Errorf("verdict JSON in nanoseconds: %s", s)
	}
}

// TestCertificateConditionGot: a certificate_expiration condition says
// what it got as people write durations (311h), not Go's 311h0m0s.
func TestCertificateConditionGot(t *testing.T) {
	got, ok := evaluate(conds(t, "[CERTIFICATE_EXPIRATION] > 480h"), &observed{hasCert: true, certExpiry: 311*time.Hour + 10*time.Minute})
	if ok || len(got) != 1 || got[0].Got != "311h" {
		t.Fatalf("evaluate = %+v, %v; want a failure that got 311h", got, ok)
	}
}
