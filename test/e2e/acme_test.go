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
	"strconv"
	"syscall"
	"testing"
	"time"

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
