package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/auth"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/monitor"
)

// fixtureCertificates is the edge the API fixture reports: three
// certificates, expired, expiring and fresh, and a managed wildcard with
// none yet.
func fixtureCertificates(context.Context) ([]certs.Info, error) {
	now := time.Now().UTC().Truncate(time.Second)
	mk := func(name string, left time.Duration) certs.Info {
		return certs.Info{Names: []string{name}, Issuer: "CN=Test CA", Serial: "01", NotBefore: now.Add(-24 * time.Hour),
			NotAfter: now.Add(left), Source: certs.SourceACME}
	}
	pending := certs.Info{Names: []string{"*.pending.test"}, Source: certs.SourceACME, Pending: true, LastError: "BADSIG"}
	return []certs.Info{mk("old.test", -49*time.Hour), mk("soon.test", 3*24*time.Hour+time.Hour), mk("fresh.test", 60*24*time.Hour+time.Hour), pending}, nil
}

func TestCertificateStatus(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		left   time.Duration
		days   int
		status string
	}{
		{-49 * time.Hour, -3, CertExpired},
		{0, 0, CertExpired},
		{time.Hour, 0, CertExpiring},
		{13*24*time.Hour + 23*time.Hour, 13, CertExpiring},
		{14 * 24 * time.Hour, 14, CertOK},
	} {
		days, status := CertificateStatus(now.Add(c.left), now, 14*24*time.Hour)
		if days != c.days || status != c.status {
			t.Errorf("%v left: %d days, %s; want %d, %s", c.left, days, status, c.days, c.status)
		}
	}
}

// TestCertificatesPaged: the list pages with limit and cursor, each item
// with days left and status, and a cursor it did not issue is refused.
func TestCertificatesPaged(t *testing.T) {
	f := newFixture(t)
	var names []string
	var statuses []string
	path := "/api/v1/certificates?limit=2"
	for range 3 {
		code, body, _ := f.call("viewer", "GET", path, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		var p Page[Certificate]
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Items {
			names, statuses = append(names, c.Names[0]), append(statuses, c.Status)
		}
		if p.NextCursor == "" {
			break
		}
		path = "/api/v1/certificates?limit=2&cursor=" + p.NextCursor
	}
	if strings.Join(names, " ") != "old.test soon.test fresh.test *.pending.test" || strings.Join(statuses, " ") != "expired expiring ok pending" {
		t.Fatalf("pages listed %v %v", names, statuses)
	}
	for _, bad := range []string{"x", "-1"} {
		if code, body, _ := f.call("viewer", "GET", "/api/v1/certificates?cursor="+bad, nil); code != http.StatusBadRequest {
			t.Errorf("cursor %q: %d %s", bad, code, body)
		}
	}
}

// TestCertificateAlertsAreTheServers: a certificate's alert instance is
// the server's, not an environment's split at its first dot.
func TestCertificateAlertsAreTheServers(t *testing.T) {
	if got := envResource(monitor.CertInstance("www.example.com")); got != (auth.Resource{}) {
		t.Errorf("a certificate alert's resource is %+v; want the server's", got)
	}
	if got := envResource("production.shop"); got != (auth.Resource{Project: "shop", Environment: "production"}) {
		t.Errorf("production.shop is %+v", got)
	}
}
