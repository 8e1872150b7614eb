package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/deploy"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"github.com/phoenixvc/phoenix/internal/usererr"
	"github.com/phoenixvc/phoenix/internal/vault"
)

// startACME starts a server whose edge obtains certificates from ca and
// points ca's validation at the edge's two listeners.
func startACME(t *testing.T, ca *testkit.ACMECA, o Options, logs *testkit.LogBuffer) *App {
	t.Helper()
	o.EdgeTLSListen = "127.0.0.1:0"
	o.ACME.Enabled, o.ACME.CA, o.ACME.CARootFile, o.ACME.Email = true, ca.URL, ca.RootsFile, "ops@shop.test"
	o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := startOpts(t, o)
	ca.Validate(port(t, a.EdgeAddr()), port(t, a.EdgeTLSAddr()))
	return a
}

func port(t *testing.T, a net.Addr) int {
	_, p, _ := net.SplitHostPort(a.String())
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deployDomain deploys a one-page release to environment env of project
// shop, whose custom domains are domains.
func deployDomain(t *testing.T, a *App, env, body string, domains ...string) {
	t.Helper()
	ctx := context.Background()
	if err := a.Deploy.EnsureEnvironment(ctx, "shop", deploy.EnvSpec{Name: env, Domains: domains}); err != nil {
		t.Fatal(err)
	}
	up, d := beginPage(t, a, body)
	if err := a.Deploy.PutBlob(ctx, up, d, bytes.NewReader([]byte(body)), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	finalizePage(t, a, up, env)
}

// getTLS fetches https://host/ from the edge's HTTPS listener (SNI host)
// trusting roots, and returns the response with its body and the leaf.
func getTLS(t *testing.T, a *App, host string, roots *x509.CertPool) (*http.Response, string, *x509.Certificate, error) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", a.EdgeTLSAddr().String())
		}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + host + "/")
	if err != nil {
		return nil, "", nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), resp.TLS.PeerCertificates[0], nil
}

// TestACMECustomDomain: an environment's custom domain gets a certificate
// from the ACME CA at its first handshake (challenges answered by the
// edge's own listeners) and is served over HTTP/2; an unknown name and a
// default *.localhost name get no certificate and no order; the plain
// listener redirects the custom domain and serves the default host; after
// a restart the stored certificate is served without a new order; no PEM
// private key is in the database files or the log.
func TestACMECustomDomain(t *testing.T) {
	ca := testkit.StartACMECA(t)
	dir := t.TempDir()
	static, staticRoots := testkit.SelfSigned(t, "static.shop.test")
	cert, key := testkit.WriteKeyPair(t, t.TempDir(), static)
	opts := Options{DataDir: dir, MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF, EdgeTLSCert: []string{cert}, EdgeTLSKey: []string{key}}
	var logs testkit.LogBuffer
	a := startACME(t, ca, opts, &logs)
	deployDomain(t, a, "production", "<h1>shop</h1>", "Shop.Test", "static.shop.test")

	resp, body, leaf, err := getTLS(t, a, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("https://shop.test/: %v\n%s", err, logs.String())
	}
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || body != "<h1>shop</h1>" || ca.Orders() != 1 {
		t.Fatalf("got %s %d %q after %d orders; want HTTP/2 200 with the page after 1", resp.Proto, resp.StatusCode, body, ca.Orders())
	}
	if _, _, sl, err := getTLS(t, a, "static.shop.test", staticRoots); err != nil || !sl.Equal(static.Leaf) {
		t.Errorf("static.shop.test: %v; want the file certificate", err)
	}
	for _, name := range []string{"evil.test", "production.shop.localhost"} {
		if _, _, _, err := getTLS(t, a, name, nil); err == nil || !strings.Contains(err.Error(), "tls") {
			t.Errorf("%s: %v; want a failed handshake", name, err)
		}
	}
	if ca.Orders() != 1 {
		t.Errorf("%d orders; names that are no custom domain must order nothing", ca.Orders())
	}
	checkPlainListener(t, a)
	checkNoPrivateKey(t, dir, &logs)

	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := startACME(t, ca, opts, &logs)
	if _, _, again, err := getTLS(t, b, "shop.test", ca.Roots()); err != nil || !again.Equal(leaf) || ca.Orders() != 1 {
		t.Errorf("after a restart: %v, same certificate %v, %d orders; want the stored one and still 1 order", err, again != nil && again.Equal(leaf), ca.Orders())
	}
}

// checkPlainListener: the plain listener sends the custom domain to HTTPS
// and serves the default host.
func checkPlainListener(t *testing.T, a *App) {
	t.Helper()
	for _, c := range []struct{ host, path, location string }{
		{"shop.test", "/x?y=1", "https://shop.test:" + strconv.Itoa(port(t, a.EdgeTLSAddr())) + "/x?y=1"},
		{"production.shop.localhost", "/", ""},
	} {
		resp, _ := plainGet(t, a, c.host, c.path)
		if got := resp.Header.Get("Location"); got != c.location || (c.location == "" && resp.StatusCode != 200) {
			t.Errorf("plain http://%s%s: %d Location %q; want %q", c.host, c.path, resp.StatusCode, got, c.location)
		}
	}
}

// plainGet asks the edge's plain listener for http://host/path, not
// following a redirect, and returns the response and its body.
func plainGet(t *testing.T, a *App, host, path string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.EdgeAddr().String()+path, nil)
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestACMEFailedOrderServedOverHTTP: a custom domain whose order failed
// (its DNS not pointing here yet) is served over plain HTTP while the
// order waits for its retry, rather than redirected to an HTTPS whose
// handshake fails; a domain with a certificate is still redirected.
func TestACMEFailedOrderServedOverHTTP(t *testing.T) {
	ca := testkit.StartACMECA(t)
	ca.Unresolvable("new.shop.test")
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF}, &logs)
	deployDomain(t, a, "production", "<h1>shop</h1>", "shop.test", "new.shop.test")
	if _, _, _, err := getTLS(t, a, "shop.test", ca.Roots()); err != nil {
		t.Fatalf("https://shop.test/: %v\n%s", err, logs.String())
	}
	if _, _, _, err := getTLS(t, a, "new.shop.test", ca.Roots()); err == nil {
		t.Fatal("https://new.shop.test/ got a certificate its CA cannot validate")
	}
	if resp, body := plainGet(t, a, "new.shop.test", "/"); resp.StatusCode != 200 || body != "<h1>shop</h1>" {
		t.Errorf("http://new.shop.test/ while its order fails: %d %q (Location %q); want the page", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	if resp, _ := plainGet(t, a, "shop.test", "/"); resp.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("http://shop.test/ with its certificate: %d; want a redirect to HTTPS", resp.StatusCode)
	}
}

func checkNoPrivateKey(t *testing.T, dir string, logs *testkit.LogBuffer) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "state.db*"))
	if len(files) == 0 {
		t.Fatal("no state.db")
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		if bytes.Contains(raw, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", f)
		}
	}
	if logs.Contains("PRIVATE KEY") {
		t.Error("the server log holds a PEM private key")
	}
}

// TestACMESealedVaultOrdersNothing: without the vault's key nothing can
// be stored sealed, so nothing is ordered.
func TestACMESealedVaultOrdersNothing(t *testing.T) {
	ca := testkit.StartACMECA(t)
	var logs testkit.LogBuffer
	a := startACME(t, ca, Options{DataDir: t.TempDir(), VaultKDF: cheapKDF, ACME: ACMEOptions{Domains: []string{"shop.test"}}}, &logs)
	if _, _, _, err := getTLS(t, a, "shop.test", ca.Roots()); err == nil {
		t.Fatal("a certificate with the vault sealed")
	}
	if ca.Orders() != 0 {
		t.Errorf("%d orders with the vault sealed", ca.Orders())
	}
}

func TestACMEOptionsChecked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, o := range map[string]Options{
		"acme without https":   {DataDir: dir, ACME: ACMEOptions{Enabled: true}},
		"https without a cert": {DataDir: dir, EdgeTLSListen: "127.0.0.1:0"},
		"bad domain":           {DataDir: dir, EdgeTLSListen: "127.0.0.1:0", ACME: ACMEOptions{Enabled: true, Domains: []string{"app.localhost"}}},
	} {
		if _, err := New(o); usererr.KindOf(err) != usererr.Usage {
			t.Errorf("%s: %v; want a usage error", name, err)
		}
	}
	bad := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", EdgeTLSListen: "127.0.0.1:0",
		ACME: ACMEOptions{Enabled: true, CARootFile: bad}})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--acme-ca-root") || usererr.KindOf(err) != usererr.Usage {
		t.Errorf("a CA root file that is no PEM: %v; want a usage error naming --acme-ca-root", err)
	}
}

// TestACMEKeysInVault: the data key is made in the vault on first use and
// read, not made again, by another server on the same state; a new
// version of the secret seals from then on while the old one still opens.
func TestACMEKeysInVault(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF})
	ctx := context.Background()
	first := &acmeKeys{vault: a.Vault}
	v1, k1, err := first.Current(ctx)
	if err != nil || v1 != 1 || len(k1) != 32 {
		t.Fatalf("first use: version %d, %d bytes, %v; want version 1 of 32 bytes", v1, len(k1), err)
	}
	other := &acmeKeys{vault: a.Vault}
	if v, k, err := other.Current(ctx); err != nil || v != 1 || !bytes.Equal(k, k1) {
		t.Fatalf("another server: version %d, same key %v, %v; want version 1, the same key", v, bytes.Equal(k, k1), err)
	}
	if _, err := a.Vault.Set(ctx, acmeSubject, acmeKeyName, vault.SecretString("bm90IDMyIGJ5dGVz"), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (&acmeKeys{vault: a.Vault}).Current(ctx); err == nil || !strings.Contains(err.Error(), acmeKeyName) {
		t.Errorf("a version that is no 32-byte key: %v; want an error naming the secret", err)
	}
	k3 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if _, err := a.Vault.Set(ctx, acmeSubject, acmeKeyName, vault.SecretString(k3), vault.SetOptions{}); err != nil {
		t.Fatal(err)
	}
	if v, _, err := (&acmeKeys{vault: a.Vault}).Current(ctx); err != nil || v != 3 {
		t.Errorf("after a new valid version: version %d, %v; want 3", v, err)
	}
	if k, err := (&acmeKeys{vault: a.Vault}).Key(ctx, 1); err != nil || !bytes.Equal(k, k1) {
		t.Errorf("version 1 after a newer one: %v", err)
	}
	if info, err := a.Vault.Describe(ctx, acmeSubject, acmeKeyName); err != nil || info.Tags["purpose"] != "acme-storage" {
		t.Errorf("the secret's metadata: %+v, %v", info, err)
	}
}

// TestACMEChallengesOnTheEdge: each challenge type alone is answered by
// the edge's own listener: HTTP-01 by the plain one (past the lean loop
// and the redirect), TLS-ALPN-01 by the HTTPS one (past HTTP/2).
func TestACMEChallengesOnTheEdge(t *testing.T) {
	for name, o := range map[string]ACMEOptions{
		"http-01":     {DisableTLSALPN01: true},
		"tls-alpn-01": {DisableHTTP01: true},
	} {
		t.Run(name, func(t *testing.T) {
			ca := testkit.StartACMECA(t)
			var logs testkit.LogBuffer
			a := startACME(t, ca, Options{DataDir: t.TempDir(), MasterKey: vault.SecretString(masterKey), VaultKDF: cheapKDF, ACME: o}, &logs)
			deployDomain(t, a, "production", "<h1>shop</h1>", "shop.test")
			if resp, body, _, err := getTLS(t, a, "shop.test", ca.Roots()); err != nil || resp.ProtoMajor != 2 || body != "<h1>shop</h1>" {
				t.Fatalf("https://shop.test/ with %s only: %v %q\n%s", name, err, body, logs.String())
			}
			if ca.Orders() != 1 {
				t.Errorf("%d orders, want 1", ca.Orders())
			}
		})
	}
}

// TestACMEReplicasShareCertificates: replicas on one PostgreSQL database
// share certificates: the one a replica obtained is served by another,
// which orders nothing and reads the data key the first made.
func TestACMEReplicasShareCertificates(t *testing.T) {
	ca := testkit.StartACMECA(t)
	rs := newReplicaSet(t)
	var logs testkit.LogBuffer
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startACME(t, ca, rs.options(t, dirA), &logs)
	deployDomain(t, a, "production", "<h1>shop</h1>", "shop.test")
	_, _, leafA, err := getTLS(t, a, "shop.test", ca.Roots())
	if err != nil {
		t.Fatalf("replica A: %v\n%s", err, logs.String())
	}
	b := startACME(t, ca, rs.options(t, dirB), &logs)
	eventually(t, "replica B serves the release over HTTPS", func() bool {
		_, body, leafB, err := getTLS(t, b, "shop.test", ca.Roots())
		return err == nil && body == "<h1>shop</h1>" && leafB.Equal(leafA)
	})
	if ca.Orders() != 1 {
		t.Errorf("%d orders; want the one replica A placed", ca.Orders())
	}
	if logs.Contains("PRIVATE KEY") || logs.Contains(dbPassword) {
		t.Error("the replicas' log holds a PEM private key or the database password")
	}
}
