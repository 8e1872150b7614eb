package edge

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// policySite has site headers of its own: a global header, a route
// header and a header the server-wide rules also set.
var policySite = map[string]string{
	"index.html":         "<h1>home</h1>",
	"assets/app.1a2b.js": "console.log(1)",
	"assets/deep/x.css":  "body{}",
	"docs/guide.html":    "guide",
	"staticwebapp.config.json": `{"globalHeaders":{"X-Frame-Options":"SAMEORIGIN","X-Site":"site"},
		"routes":[{"route":"/old","redirect":"/","statusCode":301}]}`,
}

// policyEdge serves policySite as "prod" on the lean loop (plain) with
// server-wide header rules, and returns the Server to read its Stats.
func policyEdge(t *testing.T, p *Policy, opts Options) (*testEdge, *Server) {
	t.Helper()
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, policySite))
	hosts.SetFallback("prod")
	if err := hosts.SetPolicy("prod", p); err != nil {
		t.Fatal(err)
	}
	opts.Headers = append(opts.Headers, HeaderRule{PathPrefix: "/", Header: map[string]string{"Referrer-Policy": "no-referrer", "X-Server": "flag"}})
	h, err := NewHandler(hosts, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: h}
	return &testEdge{URL: startServer(t, srv), h: h, hosts: hosts}, srv
}

func TestPolicyHeaderRulesApplyInOrderAndWin(t *testing.T) {
	e, srv := policyEdge(t, &Policy{Headers: []PolicyRule{
		{Name: "frame", Set: map[string]string{"X-Frame-Options": "DENY", "X-Rule": "first"}},
		{Name: "strip", Remove: []string{"Referrer-Policy", "X-Site"}},
		{Name: "later-wins", Set: map[string]string{"X-Rule": "second"}},
		{Name: "assets", Path: "/assets/*", Set: map[string]string{"X-Asset": "yes", "Cache-Control": "public, max-age=60"}},
	}}, Options{})
	// Twice each, alternating, so the lean loop's cached header block is
	// built and reused for each path.
	for range 2 {
		for _, c := range []struct {
			path  string
			asset bool
		}{{"/", false}, {"/assets/app.1a2b.js", true}, {"/assets/deep/x.css", true}, {"/no/such/page", false}} { // the last: the edge's own 404 text
			r := e.get(t, c.path, nil)
			hd := r.header
			if hd.Get("X-Frame-Options") != "DENY" || hd.Get("X-Rule") != "second" || hd.Get("Referrer-Policy") != "" ||
				hd.Get("X-Site") != "" || hd.Get("X-Server") != "flag" {
				t.Fatalf("%s: headers %v", c.path, hd)
			}
			if (hd.Get("X-Asset") == "yes") != c.asset || c.asset && hd.Get("Cache-Control") != "public, max-age=60" {
				t.Fatalf("%s: asset rule applied %q, Cache-Control %q", c.path, hd.Get("X-Asset"), hd.Get("Cache-Control"))
			}
		}
	}
	if r := e.get(t, "/old", nil); r.status != http.StatusMovedPermanently || r.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("redirect: %d %v", r.status, r.header)
	}
	if st := srv.lean.Load(); st == nil || st.Stats().Fast < 8 {
		t.Fatalf("the lean loop did not answer the requests: %+v", st)
	}
	// Cleared, the site's own headers are back.
	if err := e.hosts.SetPolicy("prod", nil); err != nil {
		t.Fatal(err)
	}
	if r := e.get(t, "/", nil); r.header.Get("X-Frame-Options") != "SAMEORIGIN" || r.header.Get("X-Rule") != "" ||
		r.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("after clearing: %v", r.header)
	}
}

func TestPolicySchemeMatchesTLS(t *testing.T) {
	pol := &Policy{Headers: []PolicyRule{
		{Name: "hsts", Scheme: "https", Path: "/*", Set: map[string]string{"Strict-Transport-Security": "max-age=31536000"}},
		{Name: "plain", Scheme: "http", Set: map[string]string{"X-Plain": "yes"}},
	}}
	e, _ := policyEdge(t, pol, Options{})
	if r := e.get(t, "/", nil); r.header.Get("Strict-Transport-Security") != "" || r.header.Get("X-Plain") != "yes" {
		t.Fatalf("plain HTTP: %v", r.header)
	}
	cert, key, pool := selfSigned(t)
	base := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key})
	resp := getTLS(t, base+"/", pool)
	if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" || resp.Header.Get("X-Plain") != "" {
		t.Fatalf("HTTPS: %v", resp.Header)
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		glob, path string
		want       bool
	}{
		{"", "/anything", true}, {"/*", "/", true}, {"/*", "/a/b/c", true},
		{"/assets/*", "/assets/app.js", true}, {"/assets/*", "/assets/deep/x.css", true}, {"/assets/*", "/assets/", true},
		{"/assets/*", "/assets", false}, {"/assets/*", "/assetsx/a", false}, {"/assets/*", "/a/assets/x", false},
		{"/*.html", "/docs/guide.html", true}, {"/*.html", "/docs/guide.htm", false},
		{"/docs/*/edit", "/docs/a/b/edit", true}, {"/docs/*/edit", "/docs/edit", false},
		{"/a*b*c", "/abc", true}, {"/a*b*c", "/axbyc", true}, {"/a*b*c", "/acb", false}, {"/a**", "/a", true},
		{"/exact", "/exact", true}, {"/exact", "/exact/", false}, {"/Case", "/case", false},
	} {
		g := compileGlob(c.glob)
		if got := g.match(c.path); got != c.want {
			t.Errorf("glob %q on %q = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
}

func TestPolicyRefusesWhatTheEdgeOwns(t *testing.T) {
	for name, p := range map[string]Policy{
		"content-length": {Headers: []PolicyRule{{Name: "x", Set: map[string]string{"content-length": "1"}}}},
		"remove framing": {Headers: []PolicyRule{{Name: "x", Remove: []string{"Transfer-Encoding"}}}},
		"cookie":         {Headers: []PolicyRule{{Name: "x", Set: map[string]string{"Set-Cookie": "a=b"}}}},
		"two lines":      {Headers: []PolicyRule{{Name: "x", Set: map[string]string{"X-A": "a\r\nX-B: b"}}}},
		"scheme":         {Headers: []PolicyRule{{Name: "x", Scheme: "ftp", Set: map[string]string{"X-A": "a"}}}},
		"glob":           {Headers: []PolicyRule{{Name: "x", Path: "assets/*", Set: map[string]string{"X-A": "a"}}}},
		"rate":           {RateLimit: &RateLimit{Requests: 0, Per: time.Second}},
	} {
		if err := p.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if p.Headers != nil && !strings.Contains(err.Error(), `rule "x"`) {
			t.Errorf("%s: error %q does not name the rule", name, err)
		}
	}
	hosts := NewHosts()
	if err := hosts.SetPolicy("new", nil); err != nil || hosts.Env("new") != nil {
		t.Fatalf("clearing the policy of an unknown environment: %v, env %v", err, hosts.Env("new"))
	}
	if err := hosts.SetPolicy("new", &Policy{Firewall: pathFirewall{}}); err != nil || hosts.Env("new").policy.Load() == nil {
		t.Fatalf("a policy before the first release: %v", err)
	}
}

func TestPolicyRateLimitPerEnvironmentWithExempt(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	limit := &RateLimit{Requests: 2, Per: time.Minute, Burst: 1}
	e, _ := policyEdge(t, &Policy{RateLimit: limit}, Options{Now: clock})
	e.hosts.SetSite("qa", mustSite(t, policySite))
	if err := e.hosts.AddHost("qa.example", "qa"); err != nil {
		t.Fatal(err)
	}
	if err := e.hosts.SetPolicy("qa", &Policy{RateLimit: limit}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // requests + burst
		if r := e.get(t, "/", nil); r.status != 200 {
			t.Fatalf("request %d within the limit: %d", i, r.status)
		}
	}
	r := e.get(t, "/", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "30" || r.body != "too many requests\n" {
		t.Fatalf("over the limit: %d Retry-After %q %q", r.status, r.header.Get("Retry-After"), r.body)
	}
	if r := e.get(t, "/", map[string]string{"Host": "qa.example"}); r.status != 200 {
		t.Fatalf("another environment shares the budget: %d", r.status)
	}
	mu.Lock()
	now = now.Add(30 * time.Second)
	mu.Unlock()
	if r := e.get(t, "/", nil); r.status != 200 {
		t.Fatalf("after a refill: %d", r.status)
	}
	// Setting the same limit again keeps the buckets: still limited.
	if err := e.hosts.SetPolicy("prod", &Policy{RateLimit: limit}); err != nil {
		t.Fatal(err)
	}
	if r := e.get(t, "/", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("republishing refilled the bucket: %d", r.status)
	}
	if s := e.h.Snapshot()[0]; s.Env != "prod" || s.Limited != 2 {
		t.Fatalf("telemetry: %+v", s)
	}
	// The loopback range is exempt: never limited.
	exempt := *limit
	exempt.Exempt = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}
	if err := e.hosts.SetPolicy("prod", &Policy{RateLimit: &exempt}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if r := e.get(t, "/", nil); r.status != 200 {
			t.Fatalf("exempt request %d: %d", i, r.status)
		}
	}
}

// pathFirewall matches /attack (block) and a query ?probe (detect only).
type pathFirewall struct{}

func (pathFirewall) Inspect(r *http.Request, client netip.Addr) (string, bool) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/attack"):
		return "test-block", true
	case strings.HasPrefix(r.URL.RawQuery, "probe"):
		return "test detect\n", false // not a safe label: the edge makes it one
	}
	return "", false
}

func TestFirewallDetectAndBlock(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e, srv := policyEdge(t, &Policy{Firewall: pathFirewall{}}, Options{Logger: log})
	cert, key, pool := selfSigned(t)
	tlsBase := startServer(t, &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key})
	secret := map[string]string{"Cookie": "session=s3cr3t-cookie", "Authorization": "Bearer s3cr3t-token"}
	for _, over := range []string{"lean loop", "net/http over TLS"} {
		get := func(path string) (int, string) {
			if over == "lean loop" {
				r := e.get(t, path, secret)
				return r.status, r.body
			}
			resp := getTLS(t, tlsBase+path, pool)
			return resp.StatusCode, resp.body
		}
		if status, body := get("/attack?q=1"); status != http.StatusForbidden || body != "forbidden by firewall\n" {
			t.Fatalf("%s: blocked request answered %d %q", over, status, body)
		}
		if status, _ := get("/?probe=1"); status != 200 {
			t.Fatalf("%s: detected request answered %d", over, status)
		}
		if status, _ := get("/"); status != 200 {
			t.Fatalf("%s: clean request answered %d", over, status)
		}
	}
	if st := srv.lean.Load(); st == nil || st.Stats().Fast < 3 {
		t.Fatalf("the lean loop did not answer: %+v", st)
	}
	metrics := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost}).body
	for _, want := range []string{
		`phoenix_edge_waf_matches_total{env="prod",rule="test-block",action="block"} 2`,
		`phoenix_edge_waf_matches_total{env="prod",rule="test_detect_",action="detect"} 2`,
		"# TYPE phoenix_edge_waf_matches_total counter",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
	out := logs.String()
	if !strings.Contains(out, "rule=test-block action=block") || !strings.Contains(out, "action=detect") {
		t.Errorf("matches not logged:\n%s", out)
	}
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, "q=1") || strings.Contains(out, "probe=1") {
		t.Errorf("log holds request headers or the query:\n%s", out)
	}
}

// TestFirewallLogIsRateLimited: a flood of matches writes a bounded
// number of lines, and the next line counts what was left out.
func TestFirewallLogIsRateLimited(t *testing.T) {
	var logs bytes.Buffer
	now := time.Unix(1_800_000_000, 0)
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, policySite))
	hosts.SetFallback("prod")
	if err := hosts.SetPolicy("prod", &Policy{Firewall: pathFirewall{}}); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(hosts, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	serve := func() {
		r := httptest.NewRequest(http.MethodGet, "http://x/attack", nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d", w.Code)
		}
	}
	for range 1000 {
		serve()
	}
	if n := strings.Count(logs.String(), "firewall match"); n != matchLogBurst {
		t.Fatalf("%d lines for 1000 matches in one instant, want %d", n, matchLogBurst)
	}
	now = now.Add(time.Second)
	serve()
	if !strings.Contains(logs.String(), "suppressed="+strconv.Itoa(1000-matchLogBurst)) {
		t.Fatalf("the next line does not count the dropped ones:\n%s", logs.String())
	}
	if s := h.Snapshot()[0]; len(s.Firewall) != 1 || s.Firewall[0].Count != 1001 || s.Firewall[0].Action != "block" {
		t.Fatalf("telemetry %+v", s.Firewall)
	}
}

// TestFirewallLabelsAreBounded: a firewall making up ids grows the
// metrics by maxFirewallRules labels at most.
func TestFirewallLabelsAreBounded(t *testing.T) {
	var c wafCounts
	for i := range maxFirewallRules + 100 {
		c.add("rule-"+strconv.Itoa(i), "detect")
	}
	snap := c.snapshot()
	if len(snap) != maxFirewallRules+1 {
		t.Fatalf("%d labels", len(snap))
	}
	for _, m := range snap {
		if m.Rule == "other" && m.Count != 100 {
			t.Fatalf("other counts %d", m.Count)
		}
	}
	if got := ruleLabel(strings.Repeat("a", 100) + "\"}"); len(got) != 64 || strings.ContainsAny(got, "\"}") {
		t.Fatalf("label %q", got)
	}
}

// TestPolicyOnServeFast checks the lean loop's handler directly, with the
// header block writer of the benchmark: header rules, 429 and 403 answer
// on the fast path, never declined.
func TestPolicyOnServeFast(t *testing.T) {
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, policySite))
	hosts.SetFallback("prod")
	if err := hosts.SetPolicy("prod", &Policy{Firewall: pathFirewall{}, RateLimit: &RateLimit{Requests: 1, Per: time.Hour},
		Headers: []PolicyRule{{Name: "x", Set: map[string]string{"X-Rule": "on"}}}}); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fast := func(path, remote string) *benchWriter {
		r, _ := http.NewRequest(http.MethodGet, "http://localhost"+path, nil)
		r.RemoteAddr = remote
		w := &benchWriter{h: http.Header{}, t: time.Now()}
		if !h.ServeFast(w, r) {
			t.Fatalf("%s declined", path)
		}
		return w
	}
	if w := fast("/attack", "192.0.2.1:1"); w.status != http.StatusForbidden {
		t.Fatalf("blocked: %d", w.status)
	}
	if w := fast("/", "192.0.2.2:1"); w.status != 200 {
		t.Fatalf("first: %d", w.status)
	}
	if w := fast("/", "192.0.2.2:1"); w.status != http.StatusTooManyRequests || w.h.Get("Retry-After") != "3600" {
		t.Fatalf("second: %d %v", w.status, w.h)
	}
}

type tlsResponse struct {
	*http.Response
	body string
}

// getTLS gets url trusting pool and returns the response with its body.
func getTLS(t *testing.T, url string, pool *x509.CertPool) tlsResponse {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return tlsResponse{resp, string(b)}
}

// FuzzGlob compares the header rules' path glob with a regular
// expression built from it: '*' is ".*", everything else literal.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"/assets/*", "/assets/a.js"}, {"/*.html", "/a/b.html"}, {"/a*b*c", "/axbxc"},
		{"/a**b", "/ab"}, {"", "/"}, {"/*", "/x"}, {"/x*", "/x"}, {"*", ""}, {"/a*a", "/a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, p string) {
		g := compileGlob(pattern)
		if pattern == "" || pattern == "/*" {
			if !g.match(p) {
				t.Fatalf("%q does not match %q", pattern, p)
			}
			return
		}
		pieces := strings.Split(pattern, "*")
		for i := range pieces {
			pieces[i] = regexp.QuoteMeta(pieces[i])
		}
		if !utf8.ValidString(p) || !utf8.ValidString(pattern) {
			return // the regexp reads invalid UTF-8 as U+FFFD, the glob compares bytes
		}
		rx := regexp.MustCompile(`^(?s:` + strings.Join(pieces, ".*") + `)$`)
		if got, want := g.match(p), rx.MatchString(p); got != want {
			t.Fatalf("glob %q on %q = %v, regexp says %v", pattern, p, got, want)
		}
	})
}

// bodyFirewall is Costly: it reads the request body, which only the
// net/http path has, and blocks one that says "attack".
type bodyFirewall struct{}

func (bodyFirewall) Costly() bool { return true }

func (bodyFirewall) Inspect(r *http.Request, client netip.Addr) (string, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", false
	}
	b, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err == nil && bytes.Contains(b, []byte("attack")) {
		return "body-attack", true
	}
	return "", false
}

// TestCostlyFirewallRunsOffTheLoop: an environment whose firewall is
// Costly is served by net/http (the lean loop declines every request of
// it), where the firewall reads bodies; the answers are the same.
func TestCostlyFirewallRunsOffTheLoop(t *testing.T) {
	e, srv := policyEdge(t, &Policy{Firewall: bodyFirewall{}}, Options{})
	if r := e.get(t, "/", nil); r.status != 200 {
		t.Fatalf("GET / = %d", r.status)
	}
	resp, err := http.Post(e.URL+"/form", "application/x-www-form-urlencoded", strings.NewReader("q=attack"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || string(body) != "forbidden by firewall\n" {
		t.Fatalf("POST with an attack in the body = %d %q", resp.StatusCode, body)
	}
	if st := srv.lean.Load(); st != nil && st.Stats().Fast != 0 {
		t.Fatalf("the lean loop answered %d request(s) of an environment with a costly firewall", st.Stats().Fast)
	}
}

// modeFirewall matches /logged without blocking, like a custom rule with
// action log in a blocking firewall; Blocking says the mode.
type modeFirewall struct{ blocking bool }

func (m modeFirewall) Blocking() bool { return m.blocking }

func (m modeFirewall) Inspect(r *http.Request, _ netip.Addr) (string, bool) {
	if r.URL.Path == "/logged" {
		return "custom-watch", false
	}
	return "", false
}

// allowFirewall reports /allowed as the match of an allow rule.
type allowFirewall struct{ modeFirewall }

func (allowFirewall) Allows(rule string) bool { return rule == "custom-office" }

func (a allowFirewall) Inspect(r *http.Request, c netip.Addr) (string, bool) {
	if r.URL.Path == "/allowed" {
		return "custom-office", false
	}
	return a.modeFirewall.Inspect(r, c)
}

// TestFirewallAllowMatchesAreCountedNotLogged: an allow rule's match is
// served, counted with action="allow" and not logged (the project's own
// exemption is no finding); a log rule's match still is.
func TestFirewallAllowMatchesAreCountedNotLogged(t *testing.T) {
	var logs testkit.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e, _ := policyEdge(t, &Policy{Firewall: allowFirewall{modeFirewall{blocking: true}}}, Options{Logger: log})
	for _, p := range []string{"/allowed", "/allowed", "/logged"} {
		if r := e.get(t, p, nil); r.status != 404 {
			t.Fatalf("%s answered %d", p, r.status)
		}
	}
	metrics := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost}).body
	for _, line := range []string{`rule="custom-office",action="allow"} 2`, `rule="custom-watch",action="log"} 1`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("no %s in\n%s", line, metrics)
		}
	}
	if logs.Contains("custom-office") || !logs.Contains("rule=custom-watch") {
		t.Errorf("want the log rule's match logged and the allow rule's not:\n%s", logs.String())
	}
}

// TestFirewallLogMatchesAreLabelledLog: a match a blocking firewall lets
// through is action="log", the same from a detect-mode one action="detect".
func TestFirewallLogMatchesAreLabelledLog(t *testing.T) {
	for blocking, want := range map[bool]string{true: "log", false: "detect"} {
		e, _ := policyEdge(t, &Policy{Firewall: modeFirewall{blocking}}, Options{})
		if r := e.get(t, "/logged", nil); r.status != 404 {
			t.Fatalf("a logged request answered %d", r.status)
		}
		metrics := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost}).body
		if line := `phoenix_edge_waf_matches_total{env="prod",rule="custom-watch",action="` + want + `"} 1`; !strings.Contains(metrics, line) {
			t.Errorf("blocking %v: no %s in\n%s", blocking, line, metrics)
		}
	}
}
