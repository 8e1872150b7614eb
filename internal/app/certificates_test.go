package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/monitor"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// listCertificates calls GET /api/v1/certificates with the admin token
// and returns the page and the raw body.
func listCertificates(t *testing.T, a *App, dir string) (api.Page[api.Certificate], string) {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.APIURL()+"/api/v1/certificates", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/certificates: %d %s", resp.StatusCode, raw)
	}
	var page api.Page[api.Certificate]
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	return page, string(raw)
}

// certAlertsFiring evaluates the monitor's rules once and returns the
// firing certificate alerts by certificate name.
func certAlertsFiring(t *testing.T, a *App) map[string]monitor.Alert {
	t.Helper()
	return alertsFiring(t, a, monitor.CertRule)
}

// alertsFiring evaluates the alert rules once and returns the firing
// alerts of one of the built-in rules on certificates, by name.
func alertsFiring(t *testing.T, a *App, rule string) map[string]monitor.Alert {
	t.Helper()
	ctx := context.Background()
	if err := a.Monitor.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	as, err := a.Monitor.Alerts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]monitor.Alert{}
	for _, al := range as {
		if al.Rule == rule && al.State == monitor.StateFiring {
			out[strings.TrimPrefix(al.Environment, "tls:")] = al
		}
	}
	return out
}

// TestFileCertificateListedAndAlerts: the edge's file certificate is
// listed with its dates and no key material, and the monitor alerts on
// it, with no rule written, when it expires within the warning; a fresh
// one does not alert, nor one past a warning turned off.
func TestFileCertificateListedAndAlerts(t *testing.T) {
	t.Parallel()
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, tc := range []struct {
		name    string
		life    time.Duration
		warning time.Duration
		status  string
		alert   bool
	}{
		{"near expiry", 3 * 24 * time.Hour, 0, api.CertExpiring, true},
		{"fresh", 60 * 24 * time.Hour, 0, api.CertOK, false},
		{"near expiry, alert off", 3 * 24 * time.Hour, -1, api.CertOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testkit.SelfSignedValid(t, nb, nb.Add(tc.life), "edge.shop.test")
			cert, key := testkit.WriteKeyPair(t, t.TempDir(), c)
			dir := t.TempDir()
			a := startOpts(t, Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
				EdgeTLSCert: []string{cert}, EdgeTLSKey: []string{key}, CertWarning: tc.warning, Proc: "-"})
			page, raw := listCertificates(t, a, dir)
			if len(page.Items) != 1 {
				t.Fatalf("%d certificates listed, want 1: %s", len(page.Items), raw)
			}
			got := page.Items[0]
			wantDays := int(tc.life.Hours()/24) - 1 // an hour of its life is gone
			if got.Source != "file" || got.Names[0] != "edge.shop.test" || !got.NotBefore.Equal(nb) ||
				!got.NotAfter.Equal(nb.Add(tc.life)) || got.DaysLeft != wantDays || (tc.warning == 0 && got.Status != tc.status) {
				t.Errorf("listed %+v; want file edge.shop.test %v..%v, %d days left, %s", got, nb, nb.Add(tc.life), wantDays, tc.status)
			}
			keyPEM, _ := os.ReadFile(key)
			if strings.Contains(raw, "PRIVATE") || strings.Contains(raw, "BEGIN") || strings.Contains(raw, string(keyPEM[40:80])) {
				t.Errorf("the listing holds key material: %s", raw)
			}
			firing := certAlertsFiring(t, a)
			if al, ok := firing["edge.shop.test"]; ok != tc.alert {
				t.Errorf("certificate alert firing %v (%+v); want %v", ok, al, tc.alert)
			}
		})
	}
}

// TestACMECertificateListed: a certificate obtained by ACME is listed
// with the served leaf's dates and issuer, beside the file certificate.
func TestACMECertificateListed(t *testing.T) {
	ca := testkit.StartACMECA(t)
	dir := t.TempDir()
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF}, &logs)
	deployDomain(t, a, "production", "<h1>shop</h1>", "shop.test")
	_, _, leaf, err := getTLS(t, a, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("https://shop.test/: %v\n%s", err, logs.String())
	}
	page, raw := listCertificates(t, a, dir)
	if len(page.Items) != 1 {
		t.Fatalf("%d certificates listed, want 1: %s", len(page.Items), raw)
	}
	got := page.Items[0]
	if got.Source != "acme" || got.Names[0] != "shop.test" || !got.NotAfter.Equal(leaf.NotAfter.UTC()) ||
		!got.NotBefore.Equal(leaf.NotBefore.UTC()) || got.Issuer != leaf.Issuer.String() {
		t.Errorf("listed %+v; served leaf %v..%v from %s", got, leaf.NotBefore, leaf.NotAfter, leaf.Issuer)
	}
	if strings.Contains(raw, "PRIVATE") || strings.Contains(raw, "BEGIN") {
		t.Errorf("the listing holds PEM data: %s", raw)
	}
}

// TestACMECertificateOfDomainTakenOff: once its domain is taken off an
// environment, a certificate is listed as unused and its expiry alert
// resolves: it is no longer renewed, so it would otherwise fire before
// its expiry and then daily for a certificate nobody is served.
func TestACMECertificateOfDomainTakenOff(t *testing.T) {
	ca := testkit.StartACMECA(t)
	dir := t.TempDir()
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		CertWarning: 100 * 24 * time.Hour}, &logs) // pebble's 90-day certificate is within the warning
	deployDomain(t, a, "production", "<h1>shop</h1>", "shop.test")
	if _, _, _, err := getTLS(t, a, "shop.test", ca.Roots()); err != nil {
		t.Fatalf("https://shop.test/: %v\n%s", err, logs.String())
	}
	if _, ok := certAlertsFiring(t, a)["shop.test"]; !ok {
		t.Fatal("no expiry alert for shop.test within the warning")
	}
	if err := a.Deploy.EnsureEnvironment(context.Background(), "shop", deploy.EnvSpec{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the certificate listed as unused", func() bool {
		page, _ := listCertificates(t, a, dir)
		return len(page.Items) == 1 && page.Items[0].Status == api.CertUnused
	})
	if al, ok := certAlertsFiring(t, a)["shop.test"]; ok {
		t.Errorf("the alert of a certificate no longer served still fires: %+v", al)
	}
}

// TestFileCertificateUncoveredDomainWarned: with certificate files and no
// ACME, a custom domain the certificate does not cover (served that
// certificate all the same, which browsers refuse) is warned about once,
// naming the domain and the fix, when it is routed and again at a
// restart; a covered one is not.
func TestFileCertificateUncoveredDomainWarned(t *testing.T) {
	t.Parallel()
	nb := time.Now().Add(-time.Hour)
	c, _ := testkit.SelfSignedValid(t, nb, nb.Add(60*24*time.Hour), "edge.shop.test")
	cert, key := testkit.WriteKeyPair(t, t.TempDir(), c)
	dir := t.TempDir()
	var logs testkit.LogBuffer
	opts := Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF, EdgeTLSCert: []string{cert}, EdgeTLSKey: []string{key},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	a := startOpts(t, opts)
	deployDomain(t, a, "production", "<h1>shop</h1>", "edge.shop.test", "www.shop.test")
	deployDomain(t, a, "production", "<h1>shop 2</h1>", "edge.shop.test", "www.shop.test")
	warning := "does not cover it"
	if n := strings.Count(logs.String(), warning); n != 1 || !logs.Contains("domain=www.shop.test") || !logs.Contains("--acme") {
		t.Fatalf("%d warnings; want one naming www.shop.test and the fix:\n%s", n, logs.String())
	}
	if logs.Contains("domain=edge.shop.test") {
		t.Error("warned about a domain the certificate covers")
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	startOpts(t, opts)
	if n := strings.Count(logs.String(), warning); n != 2 {
		t.Errorf("%d warnings after a restart; want the domain warned again at the start", n)
	}
}

// TestACMEFailingOrderAlerts: a custom domain whose order keeps failing
// at the CA (its name does not resolve) fires certificate-order-failing
// once it has failed for --cert-order-alert, naming the domain, its
// project and environment, and the CA's error; it resolves once the
// domain is taken off. Before, the failure was listed and logged, and
// nobody was told.
func TestACMEFailingOrderAlerts(t *testing.T) {
	ca := testkit.StartACMECA(t)
	ca.Unresolvable("bad.test")
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF,
		CertOrderAlert: time.Millisecond}, &logs)
	deployDomain(t, a, "production", "<h1>shop</h1>", "bad.test")
	if _, _, _, err := getTLS(t, a, "bad.test", ca.Roots()); err == nil {
		t.Fatal("https://bad.test/ got a certificate")
	}
	var al monitor.Alert
	eventually(t, "certificate-order-failing fires for bad.test\n"+logs.String(), func() bool {
		var ok bool
		al, ok = alertsFiring(t, a, monitor.CertOrderRule)["bad.test"]
		return ok
	})
	if !strings.HasPrefix(al.Summary, "no certificate for bad.test (shop/production): its ACME order has failed for ") ||
		!strings.Contains(al.Summary, "the CA's last error: ") || !strings.Contains(al.Summary, "bad.test") {
		t.Errorf("summary %q; want the domain, its environment and the CA's error", al.Summary)
	}
	if err := a.Deploy.EnsureEnvironment(context.Background(), "shop", deploy.EnvSpec{Name: "production"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the alert resolves once the domain is taken off", func() bool {
		return len(alertsFiring(t, a, monitor.CertOrderRule)) == 0
	})
}
