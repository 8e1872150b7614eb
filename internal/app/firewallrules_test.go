package app

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// edgeRequest sends method path to shop's production on a's edge with a
// browser's User-Agent and returns the status.
func edgeRequest(t *testing.T, a *App, method, path, contentType, body string) int {
	t.Helper()
	return edgeRequestWith(t, a, method, path, "Content-Type", contentType, body)
}

// edgeRequestWith is edgeRequest with one header (none when value is
// "") and an optional body.
func edgeRequestWith(t *testing.T, a *App, method, path, header, value string, body ...string) int {
	t.Helper()
	u, _ := url.Parse(a.EdgeURL("shop", "production"))
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+u.Port()+path, strings.NewReader(strings.Join(body, "")))
	req.Host = u.Hostname()
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	req.Header.Set("Accept", "*/*")
	if value != "" {
		req.Header[header] = []string{value} // as sent, not canonicalized
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestEdgeFirewallRulesOnTheServer: edge.waf.custom_rules block on the
// real edge, alone (the lean event loop) and with owasp-core (net/http's
// goroutines), and an office range allowed first skips the CRS;
// edge.waf.exclude lets a text/plain beacon that crs-920420 refuses
// through; a policy naming a rule the CRS does not have is refused with
// the field named.
func TestEdgeFirewallRulesOnTheServer(t *testing.T) {
	t.Parallel()
	a := startOpts(t, Options{DataDir: t.TempDir(), VerifySoak: -1})
	custom := `
  custom_rules:
    - {name: block-admin, priority: 20, action: block, match: [{variable: path, operator: begins_with, values: [/admin], transforms: [lowercase]}]}
    - {name: debug-header, priority: 30, action: block, match: [{variable: "header:X-Debug", operator: any}]}
    - {name: utm, priority: 40, action: log, match: [{variable: query_string, operator: contains, values: [utm_source=]}]}`
	if code, body := putEdge(t, a, "project: {name: shop}\nedge:\n waf:\n  mode: block"+custom+"\n"); code != 200 {
		t.Fatalf("put custom rules: %d %s", code, body)
	}
	deployPage(t, a, "production", "<title>one</title>")
	if code := edgeRequest(t, a, "GET", "/", "", ""); code != 200 {
		t.Fatalf("the page: %d", code)
	}
	if code := edgeRequest(t, a, "GET", "/Admin/users", "", ""); code != http.StatusForbidden {
		t.Fatalf("/Admin with custom rules alone: %d; want 403", code)
	}
	if code := edgeRequestWith(t, a, "GET", "/", "x-debug", "1"); code != http.StatusForbidden {
		t.Fatalf("a header rule with custom rules alone: %d; want 403", code)
	}
	if code := edgeRequest(t, a, "GET", "/?utm_source=mail", "", ""); code != 200 {
		t.Fatalf("a logged request: %d; want it served", code)
	}
	m := edgeMetrics(t, a)
	for _, want := range []string{`rule="custom-block-admin",action="block"} 1`, `rule="custom-utm",action="log"} 1`} {
		if !strings.Contains(m, want) {
			t.Fatalf("metrics lack %s:\n%s", want, m)
		}
	}

	beacon := func() int { return edgeRequest(t, a, "POST", "/", "text/plain;charset=UTF-8", `{"event":"pageview"}`) }
	if code, body := putEdge(t, a, "project: {name: shop}\nedge:\n waf:\n  mode: block\n  rules: [owasp-core]"+custom+"\n"); code != 200 {
		t.Fatalf("put owasp-core: %d %s", code, body)
	}
	if code := beacon(); code != http.StatusForbidden {
		t.Fatalf("a text/plain beacon without exclusions: %d; want 403", code)
	}
	if !strings.Contains(edgeMetrics(t, a), `rule="crs-920420",action="block"} 1`) {
		t.Fatal("crs-920420 is not counted")
	}
	if code := edgeRequest(t, a, "GET", "/admin", "", ""); code != http.StatusForbidden {
		t.Fatalf("/admin with owasp-core: %d; want 403", code)
	}
	if code, body := putEdge(t, a, "project: {name: shop}\nedge:\n waf:\n  mode: block\n  rules: [owasp-core]\n  exclude: [crs-920420]"+custom+"\n"); code != 200 {
		t.Fatalf("put with exclude: %d %s", code, body)
	}
	if code := beacon(); code == http.StatusForbidden {
		t.Fatal("a text/plain beacon with 920420 excluded: 403")
	}
	if code := edgeRequest(t, a, "GET", "/?id=1%27%20OR%201%3D1--", "", ""); code != http.StatusForbidden {
		t.Fatalf("a SQL injection with 920420 excluded: %d; want 403", code)
	}
	m = edgeMetrics(t, a)
	if !strings.Contains(m, `rule="crs-920420",action="block"} 1`) || !strings.Contains(m, `rule="custom-block-admin",action="block"} 2`) {
		t.Fatalf("metrics after the exclusion:\n%s", m)
	}

	office := "\n    - {name: office, priority: 1, action: allow, match: [{variable: remote_addr, operator: ip_match, values: [127.0.0.0/8]}]}"
	if code, body := putEdge(t, a, "project: {name: shop}\nedge:\n waf:\n  mode: block\n  rules: [owasp-core]"+custom+office+"\n"); code != 200 {
		t.Fatalf("put with an office range: %d %s", code, body)
	}
	if code := edgeRequest(t, a, "GET", "/?id=1%27%20OR%201%3D1--", "", ""); code != 200 {
		t.Fatalf("a SQL injection from the allowed range: %d; want it served", code)
	}
	if m = edgeMetrics(t, a); !strings.Contains(m, `rule="custom-office",action="allow"} 1`) {
		t.Fatalf("the allow rule's match is not counted:\n%s", m)
	}

	code, body := apiSend(t, a, "PUT", "/api/v1/projects/shop/edge", `{"waf":{"mode":"block","rules":["owasp-core"],"exclude":[920999]}}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "edge.waf.exclude[0]") {
		t.Fatalf("a policy excluding a rule the CRS lacks: %d %s", code, body)
	}
}
