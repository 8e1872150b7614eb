package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/api"
	"github.com/phoenixvc/phoenix/internal/app"
	"github.com/phoenixvc/phoenix/internal/certs"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestCertificatesCommand: phoenix certificates finds the running server
// of --data and lists its file certificate, as a table and as JSON,
// without key material; with no server running it lists none and says
// why (not that the edge serves plain HTTP: the running one may not).
func TestCertificatesCommand(t *testing.T) {
	t.Parallel()
	empty := mustRun(t, "", "certificates", "--data", t.TempDir())
	if !strings.HasPrefix(empty, "no certificates") || !strings.Contains(empty, "no server is running") || !strings.Contains(empty, "--server URL") {
		t.Errorf("no server running: %q; want why and what to do", empty)
	}
	none, errs, code := runVault(t, "", "certificates", "-o", "json", "--data", t.TempDir())
	if code != 0 || strings.TrimSpace(none) != "[]" || !strings.Contains(errs, "no server is running") {
		t.Errorf("no server running, -o json: exit %d, %q, stderr %q; want [] and why on stderr", code, none, errs)
	}
	nb := time.Now().Add(-time.Hour).Truncate(time.Second)
	c, _ := testkit.SelfSignedValid(t, nb, nb.Add(5*24*time.Hour), "www.shop.test", "shop.test")
	cert, key := testkit.WriteKeyPair(t, t.TempDir(), c)
	data := t.TempDir()
	a, err := app.New(app.Options{DataDir: data, Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", Proc: "-",
		EdgeTLSCert: []string{cert}, EdgeTLSKey: []string{key}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(context.Background()) })

	out := mustRun(t, "", "certificates", "--data", data)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAMES") {
		t.Fatalf("table:\n%s", out)
	}
	for _, want := range []string{"www.shop.test,shop.test", "file", "www.shop.test", nb.Format("2006-01-02"), " 4 ", "expiring"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row %q lacks %q", lines[1], want)
		}
	}
	raw := mustRun(t, "", "certificates", "-o", "json", "--data", data)
	var cs []api.Certificate
	if err := json.Unmarshal([]byte(raw), &cs); err != nil || len(cs) != 1 {
		t.Fatalf("-o json: %v\n%s", err, raw)
	}
	if !cs[0].NotAfter.Equal(nb.Add(5*24*time.Hour)) || cs[0].DaysLeft != 4 || cs[0].Status != api.CertExpiring {
		t.Errorf("-o json: %+v", cs[0])
	}
	if strings.Contains(raw+out, "PRIVATE") || strings.Contains(raw+out, "BEGIN") {
		t.Error("the output holds PEM data")
	}
}

func TestCertAlertDaysFlag(t *testing.T) {
	t.Parallel()
	for days, want := range map[int]time.Duration{14: 14 * 24 * time.Hour, 0: -1} {
		if got, err := (acmeFlags{alertDays: days}).certWarning(asFlags); err != nil || got != want {
			t.Errorf("--cert-alert-days %d: %v, %v; want %v", days, got, err, want)
		}
	}
	_, stderr, code := runVault(t, "", "server", "--data", t.TempDir(), "--cert-alert-days", "-3")
	if code != 2 || !strings.Contains(stderr, "--cert-alert-days -3 is negative") {
		t.Errorf("negative days: exit %d: %s", code, stderr)
	}
}

// TestCertificatesTable: a wildcard is listed by its name, a pending
// managed name with dashes for what it does not have yet and its error.
func TestCertificatesTable(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 1, 2, 3, 4, 0, 0, time.UTC)
	var b strings.Builder
	err := certificatesTable(&b, []api.Certificate{
		{Info: certs.Info{Names: []string{"*.shop.test"}, Source: certs.SourceACME, Issuer: "CN=Pebble Intermediate,O=x", NotBefore: at, NotAfter: at},
			DaysLeft: 37, Status: api.CertOK},
		{Info: certs.Info{Names: []string{"*.docs.test"}, Source: certs.SourceACME, Pending: true, LastError: "update docs.test: the server\nanswered BADSIG"},
			Status: api.CertPending},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "*.shop.test") || !strings.Contains(lines[1], "Pebble Intermediate") ||
		!strings.Contains(lines[1], "2027-01-02 03:04Z") || strings.Contains(lines[2], "0001-01-01") ||
		!strings.Contains(lines[2], "pending") || !strings.Contains(lines[2], "the server answered BADSIG") {
		t.Errorf("table:\n%s", b.String())
	}
}
