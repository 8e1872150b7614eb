package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/phoenixvc/phoenix/internal/config"
	"github.com/phoenixvc/phoenix/internal/edge"
)

// edgeYAML is a phoenix.yaml whose edge: section has a header rule for
// every request, one for HTTPS only and a rate limit of 3 a minute.
const edgeYAML = `version: 1
project: {name: shop}
environments:
  production: {}
edge:
  headers:
    - name: Frame
      order: 1
      match: {path: "/*"}
      set: {X-Frame-Options: DENY}
    - name: HSTS
      order: 2
      match: {scheme: https}
      set: {Strict-Transport-Security: max-age=31536000}
  rate_limit: {requests: 3, per: 1m}
`

// putEdge sends a phoenix.yaml's edge: section as phoenix deploy does and
// returns the answer.
func putEdge(t *testing.T, a *App, phoenixYAML string) (int, string) {
	t.Helper()
	policy := []byte("{}")
	if phoenixYAML != "" {
		cfg, err := config.Parse([]byte(phoenixYAML), "phoenix.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if canon, err := cfg.Edge.Canonical(); err != nil {
			t.Fatal(err)
		} else if canon != nil {
			policy = canon
		}
	}
	return apiSend(t, a, "PUT", "/api/v1/projects/shop/edge", string(policy))
}

// edgeHead gets / of shop's env from a's edge and returns the answer's
// status and headers.
func edgeHead(t *testing.T, a *App, env string) (int, http.Header) {
	t.Helper()
	u, err := url.Parse(a.EdgeURL("shop", env))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:"+u.Port()+"/", nil)
	req.Host = u.Hostname()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestEdgePolicyReachesTheEdge: a project's edge: section sent to a real
// server applies on its edge (header rule, HTTPS-only rule left out over
// plain HTTP, 429 with Retry-After past the limit), again after a
// restart, and a change applies without a new deployment; a geo list on
// a server without a GeoIP database is refused loudly.
func TestEdgePolicyReachesTheEdge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// One round of post-deploy verification: its one probe of / comes
	// from loopback too and takes one of the 3 requests.
	o := Options{DataDir: dir, VerifySoak: -1}
	a := startOpts(t, o)
	if code, body := putEdge(t, a, edgeYAML); code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	deployPage(t, a, "production", "<title>one</title>")
	code, hd := edgeHead(t, a, "production")
	if code != 200 || hd.Get("X-Frame-Options") != "DENY" || hd.Get("Strict-Transport-Security") != "" {
		t.Fatalf("first request: %d %v", code, hd)
	}
	served := 1
	for code == 200 && served <= 3 {
		if code, hd = edgeHead(t, a, "production"); code == 200 {
			served++
		}
	}
	if served > 3 || code != http.StatusTooManyRequests || hd.Get("Retry-After") != "20" {
		t.Fatalf("after %d requests served: %d Retry-After %q, want 429 within 3 a minute", served, code, hd.Get("Retry-After"))
	}

	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	a = startOpts(t, o)
	if code, hd := edgeHead(t, a, "production"); code != 200 || hd.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("after a restart: %d %v", code, hd)
	}

	if code, body := putEdge(t, a, ""); code != 200 { // the section removed from phoenix.yaml
		t.Fatalf("clear: %d %s", code, body)
	}
	for range 5 {
		if code, hd := edgeHead(t, a, "production"); code != 200 || hd.Get("X-Frame-Options") != "" {
			t.Fatalf("after clearing: %d %v", code, hd)
		}
	}

	code, body := putEdge(t, a, "project: {name: shop}\nedge: {waf: {mode: block, geo_deny: [KP]}}\n")
	if code != http.StatusBadRequest || !strings.Contains(body, "edge.waf.geo_deny needs a GeoIP database") ||
		!strings.Contains(body, "--geoip-db") {
		t.Fatalf("geo_deny on a server without --geoip-db: %d %s", code, body)
	}
	if e, err := a.Deploy.EdgePolicy(context.Background(), "shop"); err != nil || e != nil {
		t.Fatalf("the refused policy was stored: %+v %v", e, err)
	}
}

// TestPolicyChangeLeavesADeletedEnvironmentDeleted: a policy change read
// the active deployments before taking edge.mu, so an environment deleted
// between that read and the lock (unpublished meanwhile) was published
// again, and on a lone server, which has no poll to drop it, stayed
// served. The deletion here holds edge.mu while the change waits for it.
func TestPolicyChangeLeavesADeletedEnvironmentDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: -1})
	deployPage(t, a, "production", "<title>one</title>")
	a.edge.mu.Lock()
	done := make(chan struct{})
	go func() { a.republish(ctx, "shop"); close(done) }()
	// The change's reads before the lock (the old code's) are done by
	// then. The sleep only orders that read before the deletion: were it
	// too short, the old code would pass too; the new code, which reads
	// nothing before the lock, passes however long it is.
	time.Sleep(200 * time.Millisecond)
	for _, q := range []string{
		`UPDATE environments SET active_id = NULL WHERE project = 'shop' AND name = 'production'`,
		`DELETE FROM deployments WHERE project = 'shop' AND environment = 'production'`,
		`DELETE FROM environments WHERE project = 'shop' AND name = 'production'`,
	} {
		if _, err := a.DB.ExecContext(ctx, q); err != nil {
			a.edge.mu.Unlock()
			t.Fatal(err)
		}
	}
	a.unpublishLocked(edgeName("shop", "production"))
	a.edge.mu.Unlock()
	<-done
	if code, body := edgeGet(t, a, "production", "/"); code != http.StatusNotFound {
		t.Errorf("the deleted environment after the policy change: %d %q, want 404 unknown host", code, body)
	}
}

// TestEdgeFirewallOnTheServer: a project's edge.waf with owasp-core in
// block mode refuses a SQL injection on the real edge and serves the
// page, the match is in /metrics; detect serves both and counts the
// match; --geoip-db lets a geo list in, a database that is not one stops
// the start naming the flag.
func TestEdgeFirewallOnTheServer(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: -1})
	if code, body := putEdge(t, a, "project: {name: shop}\nedge: {waf: {mode: block, rules: [owasp-core, scanners]}}\n"); code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	deployPage(t, a, "production", "<title>one</title>")
	get := func(path string) int { t.Helper(); return edgeRequestWith(t, a, "GET", path, "", "") }
	attack := "/?id=1%27%20OR%201%3D1--"
	if code := get("/?q=shoes&page=2"); code != 200 {
		t.Fatalf("a search: %d", code)
	}
	if code := get(attack); code != http.StatusForbidden {
		t.Fatalf("a SQL injection in block mode: %d", code)
	}
	metrics := edgeMetrics(t, a)
	if !strings.Contains(metrics, `phoenix_edge_waf_matches_total{env="production.shop",rule="crs-942100",action="block"} 1`) {
		t.Fatalf("metrics:\n%s", metrics)
	}
	if code, body := putEdge(t, a, "project: {name: shop}\nedge: {waf: {mode: detect, rules: [owasp-core]}}\n"); code != 200 {
		t.Fatalf("put detect: %d %s", code, body)
	}
	if code := get(attack); code != 200 {
		t.Fatalf("a SQL injection in detect mode: %d", code)
	}
	if !strings.Contains(edgeMetrics(t, a), `rule="crs-942100",action="detect"} 1`) {
		t.Fatal("the detected match is not counted")
	}

	geo := writeTestGeoDB(t)
	b := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: -1, GeoIPDB: geo})
	if code, body := putEdge(t, b, "project: {name: shop}\nedge: {waf: {mode: block, geo_deny: [KP]}}\n"); code != 200 {
		t.Fatalf("geo_deny with --geoip-db: %d %s", code, body)
	}
	bad := filepath.Join(t.TempDir(), "not.mmdb")
	os.WriteFile(bad, []byte("not a database"), 0o600)
	c, err := New(Options{DataDir: t.TempDir(), Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", GeoIPDB: bad})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "--geoip-db") {
		t.Fatalf("a start with a bad --geoip-db: %v", err)
	}
}

// edgeMetrics is the edge's /metrics.
func edgeMetrics(t *testing.T, a *App) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+a.EdgeAddr().String()+"/metrics", nil)
	req.Host = edge.DefaultAdminHost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// writeTestGeoDB writes a small GeoLite2-Country-shaped database placing
// 203.0.113.128/25 in KP.
func writeTestGeoDB(t *testing.T) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("203.0.113.128/25")
	if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String("KP")}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplicasFollowTheEdgePolicy: a policy set through one replica
// reaches the other's edge without a deployment (notification), and a
// change no notification announced reaches both through the poll.
func TestReplicasFollowTheEdgePolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, leader, follower := twoReplicas(t)
	deployPage(t, leader, "production", "<title>one</title>")
	eventually(t, "the follower serves the release", pageIs(t, follower, "production", "<title>one</title>"))
	if code, body := putEdge(t, follower, edgeYAML); code != 200 {
		t.Fatalf("put: %d %s", code, body)
	}
	frame := func(a *App, want string) func() bool {
		return func() bool {
			code, hd := edgeHead(t, a, "production")
			return code == 200 && hd.Get("X-Frame-Options") == want
		}
	}
	took := eventually(t, "the leader applies the policy", frame(leader, "DENY"))
	t.Logf("a policy set on one replica reached the other's edge in %v", took)
	if _, err := leader.DB.ExecContext(ctx, `UPDATE projects SET edge_policy = $1 WHERE name = 'shop'`,
		`{"headers":[{"name":"f","order":0,"match":{},"set":{"X-Frame-Options":"SAMEORIGIN"}}],"waf":{"mode":"off"}}`); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, "the follower polled", frame(follower, "SAMEORIGIN"))
	t.Logf("an unannounced change reached the follower in %v (poll every %v)", took, replicaPoll)
	eventually(t, "the leader polled", frame(leader, "SAMEORIGIN"))
}
