package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEdgePolicyFromPhoenixYAML: phoenix deploy sends phoenix.yaml's
// edge: section; the server's edge applies its header rule and its rate
// limit; removing the section clears them; a geo list the server cannot
// apply fails the deploy with the reason; owasp-core in block mode
// refuses a SQL injection and serves a search.
func TestEdgePolicyFromPhoenixYAML(t *testing.T) {
	work := t.TempDir()
	data := filepath.Join(work, "data")
	s := startServer(t, data)
	writeSite(t, filepath.Join(work, "site"), "edge-policy")
	env := []string{"PHOENIX_DATA=" + data}
	deploy := func(edge string) result {
		t.Helper()
		yaml := "version: 1\nproject:\n  name: shop\nenvironments:\n  production: {}\n" + edge
		if err := os.WriteFile(filepath.Join(work, "phoenix.yaml"), []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return run(t, work, env, "deploy", "site", "--env", "production")
	}
	if r := deploy("edge:\n  headers:\n    - name: NoFrames\n      match: {path: \"/*\"}\n      set: {X-Frame-Options: DENY}\n" +
		"  rate_limit: {requests: 2, per: 1m}\n"); r.code != 0 {
		t.Fatalf("deploy: %+v", r)
	}
	get := func() (int, http.Header) {
		req, _ := http.NewRequest("GET", "http://"+s.edge+"/", nil)
		req.Host = "production.shop.localhost"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	code, hd := get()
	if code != 200 || hd.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("first request: %d %v", code, hd)
	}
	// The server's post-deploy verification probes / from loopback too,
	// and may have taken the other request of the minute.
	for served := 1; code == 200; served++ {
		if served > 2 {
			t.Fatalf("%d requests served in a minute, limit 2", served)
		}
		code, hd = get()
	}
	if code != http.StatusTooManyRequests || hd.Get("Retry-After") != "30" {
		t.Fatalf("past the limit: %d Retry-After %q", code, hd.Get("Retry-After"))
	}
	if r := deploy(""); r.code != 0 {
		t.Fatalf("deploy without edge: %+v", r)
	}
	for range 4 {
		if code, hd := get(); code != 200 || hd.Get("X-Frame-Options") != "" {
			t.Fatalf("after removing edge: %d %v", code, hd)
		}
	}
	r := deploy("edge:\n  waf: {mode: block, geo_deny: [KP]}\n")
	if r.code == 0 || !strings.Contains(r.stderr, "edge.waf.geo_deny needs a GeoIP database") {
		t.Fatalf("deploy with geo_deny on a server without --geoip-db: %+v", r)
	}
	if r := deploy("edge:\n  waf: {mode: block, rules: [owasp-core]}\n"); r.code != 0 {
		t.Fatalf("deploy with the firewall: %+v", r)
	}
	for path, want := range map[string]int{"/?q=shoes": 200, "/?id=1%27%20OR%201%3D1--": http.StatusForbidden} {
		req, _ := http.NewRequest("GET", "http://"+s.edge+path, nil)
		req.Host = "production.shop.localhost"
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with owasp-core in block mode: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
