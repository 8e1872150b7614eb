package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestServeWithTheProjectsEdgePolicy: phoenix serve --config applies the
// phoenix.yaml's edge: section to the folder as the server would: the
// header rule, the WAF's custom rule and the rate limit; a broken section
// stops it with the file and field named.
func TestServeWithTheProjectsEdgePolicy(t *testing.T) {
	work := t.TempDir()
	writeSite(t, filepath.Join(work, "site"), "served-with-policy")
	yaml := "version: 1\nproject: {name: shop}\nedge:\n" +
		"  headers:\n    - {name: NoFrames, match: {path: \"/*\"}, set: {X-Frame-Options: DENY}}\n" +
		"  rate_limit: {requests: 5, per: 1m}\n" +
		"  waf:\n    mode: block\n    custom_rules:\n" +
		"      - {name: no-admin, priority: 1, action: block, match: [{variable: path, operator: begins_with, values: [/admin]}]}\n"
	cfg := filepath.Join(work, "phoenix.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	logs := &testkit.LogBuffer{}
	cmd := exec.Command(binary, "serve", filepath.Join(work, "site"), "--addr", addr, "--config", cfg)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	get := func(path string) (int, http.Header) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, nil
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "serving ") {
		if time.Now().After(deadline) {
			t.Fatalf("phoenix serve did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness
	}
	if code, hd := get("/"); code != 200 || hd.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET /: %d %v", code, hd)
	}
	if code, _ := get("/admin/users"); code != http.StatusForbidden {
		t.Fatalf("GET /admin/users with the no-admin rule: %d", code)
	}
	served := 2
	code := 200
	for ; code != http.StatusTooManyRequests && served < 10; served++ {
		code, _ = get("/")
	}
	if code != http.StatusTooManyRequests || served > 8 {
		t.Fatalf("no 429 within the limit of 5 a minute (%d requests, last %d)", served, code)
	}
	os.WriteFile(cfg, []byte("version: 1\nproject: {name: shop}\nedge:\n  rate_limit: {requests: 0}\n"), 0o644)
	r := run(t, work, nil, "serve", filepath.Join(work, "site"), "--addr", freePort(t), "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "edge.rate_limit.requests") || !strings.Contains(r.stderr, "phoenix.yaml") {
		t.Fatalf("a broken edge section: %+v", r)
	}
}
