package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/phoenixvc/phoenix/internal/dnsupdate/dnsupdatetest"
	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestServerACME: `phoenix server --acme` pointed at pebble (in this test
// process) obtains a certificate for an environment's custom domain at the
// first HTTPS request, the CA validating against the server's own
// listeners, and serves the site over HTTP/2; an unknown name gets no
// certificate and no order; after a restart the stored certificate is
// served without a new order; the private key is never in the database
// file or the log.
func TestServerACME(t *testing.T) {
	ca := testkit.StartACMECA(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"PHOENIX_MASTER_KEY=e2e-acme-master-key"}
	start := func() (*server, string) {
		tlsAddr := freePort(t)
		s := startServerWith(t, data, env, "--edge-tls-listen", tlsAddr, "--acme", "--acme-ca", ca.URL,
			"--acme-ca-root", ca.RootsFile, "--acme-email", "ops@shop.test")
		ca.Validate(portOf(t, s.edge), portOf(t, tlsAddr))
		return s, tlsAddr
	}
	s, tlsAddr := start()
	writeFile(t, filepath.Join(work, "phoenix.yaml"), "version: 1\nproject: {name: shop}\nenvironments:\n  production:\n    domains: [shop.test]\n")
	writeSite(t, filepath.Join(work, "site"), "release-acme")
	if r := run(t, work, []string{"PHOENIX_DATA=" + data}, "deploy", "site", "--env", "production"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	leaf, proto, body, err := getSNI(tlsAddr, "shop.test", ca.Roots())
	if err != nil || proto != "HTTP/2.0" || !bytes.Contains(body, []byte("release-acme")) || ca.Orders() != 1 {
		t.Fatalf("https://shop.test/: %v, %s %q after %d orders\n%s", err, proto, body, ca.Orders(), s.logs.String())
	}
	if _, _, _, err := getSNI(tlsAddr, "unknown.test", nil); err == nil || ca.Orders() != 1 {
		t.Errorf("an unknown name: %v after %d orders; want a failed handshake and no order", err, ca.Orders())
	}
	stop(t, s)
	for _, f := range []string{"state.db", "state.db-wal"} {
		if b, _ := os.ReadFile(filepath.Join(data, f)); bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a PEM private key", f)
		}
	}
	s, tlsAddr = start()
	again, _, _, err := getSNI(tlsAddr, "shop.test", ca.Roots())
	if err != nil || !again.Equal(leaf) || ca.Orders() != 1 {
		t.Errorf("after a restart: %v, same certificate %v, %d orders; want the stored one, no new order", err, again != nil && again.Equal(leaf), ca.Orders())
	}
	if s.logs.Contains("PRIVATE KEY") {
		t.Error("the server's log holds a PEM private key")
	}
}

func portOf(t *testing.T, addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// getSNI gets https://name/ from addr, trusting roots, offering HTTP/2.
func getSNI(addr, name string, roots *x509.CertPool) (*x509.Certificate, string, []byte, error) {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Get("https://" + name + "/")
	if err != nil {
		return nil, "", nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.TLS.PeerCertificates[0], resp.Proto, b, nil
}

// stop ends a server with SIGTERM and waits for it.
func stop(t *testing.T, s *server) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server did not exit cleanly on SIGTERM: %v\n%s", err, s.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

// TestServerACMEDNS01: `phoenix server --acme --acme-dns-*`, the TSIG
// secret stored with `phoenix secret set`, obtains *.shop.test and
// shop.test (--acme-domain) from pebble through DNS-01 at its start,
// updating a primary in this test process; a.shop.test is served by the
// wildcard; no challenge record is left; `phoenix certificates` lists the
// wildcard; after a restart the stored certificates are served without a
// new order; the secret is never in the server's log.
func TestServerACMEDNS01(t *testing.T) {
	const tsig = "ZTJlLWRuczAxLXRzaWctc2VjcmV0LTAxMjM0NTY3ODlhYmNkZWY="
	ca := testkit.StartACMECA(t)
	z := dnsupdatetest.StartT(t, "shop.test", "phoenix-acme", tsig)
	ca.DelegateTXT(z.Addr)
	ca.Validate(1, 1) // DNS-01 only: the CA never connects to the server
	work := t.TempDir()
	data := filepath.Join(work, "data")
	env := []string{"PHOENIX_MASTER_KEY=e2e-acme-dns-master-key"}
	local := []string{"PHOENIX_DATA=" + data}
	s := startServerWith(t, data, env)
	if r := runStdin(t, work, local, tsig, "secret", "set", "ACME_TSIG"); r.code != 0 {
		t.Fatalf("secret set: %+v", r)
	}
	stop(t, s)
	start := func() (*server, string) {
		tlsAddr := freePort(t)
		return startServerWith(t, data, env, "--edge-tls-listen", tlsAddr, "--acme", "--acme-ca", ca.URL, "--acme-ca-root", ca.RootsFile,
			"--acme-domain", "*.shop.test", "--acme-domain", "shop.test", "--acme-dns-server", z.Addr, "--acme-dns-tsig-key", "phoenix-acme",
			"--acme-dns-tsig-secret", "ACME_TSIG", "--acme-dns-resolver", z.Addr, "--acme-dns-propagation-timeout", "30s"), tlsAddr
	}
	s, tlsAddr := start()
	leaf, _, _, err := getSNI(tlsAddr, "a.shop.test", ca.Roots())
	if err != nil || !slices.Equal(leaf.DNSNames, []string{"*.shop.test"}) {
		t.Fatalf("https://a.shop.test/: %v %v\n%s", err, leaf, s.logs.String())
	}
	if apex, _, _, err := getSNI(tlsAddr, "shop.test", ca.Roots()); err != nil || !slices.Equal(apex.DNSNames, []string{"shop.test"}) || ca.Orders() != 2 {
		t.Fatalf("https://shop.test/: %v after %d orders; want its own certificate, 2 orders", err, ca.Orders())
	}
	for deadline := time.Now().Add(30 * time.Second); len(z.Values("_acme-challenge.shop.test", dns.TypeTXT)) != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("challenge records left: %q", z.Values("_acme-challenge.shop.test", dns.TypeTXT))
		}
		time.Sleep(50 * time.Millisecond) // polling the zone, not timing a result
	}
	if r := run(t, work, local, "certificates"); r.code != 0 || !strings.Contains(r.stdout, "*.shop.test") {
		t.Errorf("phoenix certificates: %+v", r)
	}
	stop(t, s)
	s, tlsAddr = start()
	if again, _, _, err := getSNI(tlsAddr, "b.shop.test", ca.Roots()); err != nil || !again.Equal(leaf) || ca.Orders() != 2 {
		t.Errorf("after a restart: %v, same certificate %v, %d orders; want the stored wildcard, no order", err, again != nil && again.Equal(leaf), ca.Orders())
	}
	if s.logs.Contains(tsig) {
		t.Error("the server's log holds the TSIG secret")
	}
}
