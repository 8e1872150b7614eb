package app

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/config"
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
// restart, and a change applies without a new deployment; a firewall
// this server lacks is refused loudly.
func TestEdgePolicyReachesTheEdge(t *testing.T) {
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

	code, body := putEdge(t, a, "project: {name: shop}\nedge: {waf: {mode: block, rules: [owasp-core]}}\n")
	if code != http.StatusBadRequest || !strings.Contains(body, "edge.waf: the firewall is not built into this server yet") {
		t.Fatalf("a firewall this server lacks: %d %s", code, body)
	}
	if e, err := a.Deploy.EdgePolicy(context.Background(), "shop"); err != nil || e != nil {
		t.Fatalf("the refused policy was stored: %+v %v", e, err)
	}
}

// TestReplicasFollowTheEdgePolicy: a policy set through one replica
// reaches the other's edge without a deployment (notification), and a
// change no notification announced reaches both through the poll.
func TestReplicasFollowTheEdgePolicy(t *testing.T) {
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
