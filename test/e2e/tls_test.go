package e2e

import (
	"crypto/tls"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

func TestServerEdgeServesHTTP2OverTLSWithHSTS(t *testing.T) {
	work := t.TempDir()
	c, _ := testkit.SelfSigned(t, "*.shop.localhost", "localhost")
	cert, key := testkit.WriteKeyPair(t, work, c)
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
