package e2e

import (
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestServerEdgeServesHTTP2OverTLSWithHSTS: the edge serves a preview
// over TLS with HTTP/2 and HSTS from certificate files, and serves a
// renewal written over those files without a restart.
func TestServerEdgeServesHTTP2OverTLSWithHSTS(t *testing.T) {
	work := t.TempDir()
	c, _ := testkit.SelfSigned(t, "*.shop.localhost", "localhost")
	cert, key := testkit.WriteKeyPair(t, work, c)
	data := filepath.Join(work, "data")
	api, edgeAddr := freePort(t), freePort(t)
	cmd := exec.Command(binary, "server", "--data", data, "--listen", api, "--edge-listen", edgeAddr,
		"--edge-tls-cert", cert, "--edge-tls-key", key, "--hsts", "8760h", "--hsts-include-subdomains")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHealthy(t, api)
	writeSite(t, filepath.Join(work, "site"), "over-tls")
	enablePreviews(t, work)
	if r := run(t, work, []string{"PHOENIX_DATA=" + data}, "deploy", "site", "--preview", "tls", "--project", "shop"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	client := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "preview-tls.shop.localhost"}}} // self-signed test cert
	req, _ := http.NewRequest("GET", "https://"+edgeAddr+"/", nil)
	req.Host = "preview-tls.shop.localhost"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Proto != "HTTP/2.0" {
		t.Fatalf("got %s over %s", resp.Status, resp.Proto)
	}
	if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000; includeSubDomains" {
		t.Fatalf("Strict-Transport-Security = %q", hsts)
	}
	if r := run(t, work, nil, "server", "--data", t.TempDir(), "--edge-tls-cert", cert); r.code != 2 {
		t.Fatalf("a certificate without its key must be a usage error: %+v", r)
	}

	// A renewal written over the files is served without a restart.
	renewed, _ := testkit.SelfSigned(t, "*.shop.localhost", "renewed.localhost")
	renewDir := t.TempDir()
	newCert, newKey := testkit.WriteKeyPair(t, renewDir, renewed)
	later := time.Now().Add(time.Minute)
	for from, to := range map[string]string{newCert: cert, newKey: key} {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(to, later, later)
	}
	deadline := time.Now().Add(30 * time.Second) // the edge looks at its files every 10 s
	for {
		conn, err := tls.Dial("tcp", edgeAddr, &tls.Config{InsecureSkipVerify: true, ServerName: "preview-tls.shop.localhost"})
		if err != nil {
			t.Fatal(err)
		}
		names := conn.ConnectionState().PeerCertificates[0].DNSNames
		conn.Close()
		if slices.Contains(names, "renewed.localhost") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edge still serves %q 30 s after the files were renewed", names)
		}
		time.Sleep(200 * time.Millisecond) // polling for the reload
	}
}

func waitHealthy(t *testing.T, api string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + api + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			return
		}
		if i > 600 {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness
	}
}
