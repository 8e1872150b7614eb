package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for *.localhost and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "phoenix test"},
		DNSNames: []string{"*.shop.localhost", "localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func TestServerEdgeServesHTTP2OverTLSWithHSTS(t *testing.T) {
	work := t.TempDir()
	cert, key := selfSigned(t, work)
	data := filepath.Join(work, "data")
	api, edgeAddr := freePort(t), freePort(t)
	cmd := exec.Command(binary, "server", "--data", data, "--listen", api, "--edge-listen", edgeAddr,
		"--edge-tls-cert", cert, "--edge-tls-key", key, "--hsts", "8760h")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitHealthy(t, api)
	writeSite(t, filepath.Join(work, "site"), "over-tls")
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
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Fatalf("Strict-Transport-Security = %q", hsts)
	}
	if r := run(t, work, nil, "server", "--data", t.TempDir(), "--edge-tls-cert", cert); r.code != 2 {
		t.Fatalf("a certificate without its key must be a usage error: %+v", r)
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
