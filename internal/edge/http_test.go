package edge

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var basicSite = map[string]string{
	"index.html":                   "<h1>home</h1>",
	"404.html":                     "custom not found",
	"about/index.html":             "about",
	"assets/index-BxQ3a9Xy.js":     "console.log('identity')",
	"assets/index-BxQ3a9Xy.js.gz":  "GZ",
	"assets/index-BxQ3a9Xy.js.br":  "BR",
	"assets/index-BxQ3a9Xy.js.zst": "ZST",
	"app.js":                       "plain js",
	"app.js.gz":                    "plain js gz",
	"data.json":                    `{"a":1}`,
	"logo.svg":                     "<svg/>",
	"digits.txt":                   "0123456789",
	"staticwebapp.config.json":     "{}",
}

func TestConditionalRequests(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	first := e.get(t, "/", nil)
	etag, lastMod := first.header.Get("ETag"), first.header.Get("Last-Modified")
	if first.status != 200 || etag == "" || !strings.HasPrefix(etag, `"`) || lastMod == "" {
		t.Fatalf("first GET: status %d etag %q last-modified %q", first.status, etag, lastMod)
	}
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	longAgo := time.Unix(0, 0).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"if-none-match same", "GET", map[string]string{"If-None-Match": etag}, 304},
		{"if-none-match in list", "GET", map[string]string{"If-None-Match": `"x", ` + etag}, 304},
		{"if-none-match weak form", "GET", map[string]string{"If-None-Match": "W/" + etag}, 304},
		{"if-none-match star", "GET", map[string]string{"If-None-Match": "*"}, 304},
		{"if-none-match other", "GET", map[string]string{"If-None-Match": `"other"`}, 200},
		{"head if-none-match", "HEAD", map[string]string{"If-None-Match": etag}, 304},
		{"if-modified-since later", "GET", map[string]string{"If-Modified-Since": later}, 304},
		{"if-modified-since long ago", "GET", map[string]string{"If-Modified-Since": longAgo}, 200},
		{"etag wins over date", "GET", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": later}, 200},
		{"if-match other", "GET", map[string]string{"If-Match": `"other"`}, 412},
		{"if-match same", "GET", map[string]string{"If-Match": etag}, 200},
		{"if-unmodified-since long ago", "GET", map[string]string{"If-Unmodified-Since": longAgo}, 412},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, tc.method, "/", tc.hdr)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d", r.status, tc.want)
			}
			if tc.want == 304 && (r.body != "" || r.header.Get("ETag") != etag || r.header.Get("Cache-Control") == "") {
				t.Fatalf("304 must have no body, the ETag and Cache-Control: %q %v", r.body, r.header)
			}
		})
	}
}

func TestRange(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	etag := e.get(t, "/digits.txt", nil).header.Get("ETag")
	tests := []struct {
		name, rng, ifRange string
		want               int
		body, cr           string
	}{
		{"first bytes", "bytes=0-3", "", 206, "0123", "bytes 0-3/10"},
		{"open end", "bytes=7-", "", 206, "789", "bytes 7-9/10"},
		{"suffix", "bytes=-2", "", 206, "89", "bytes 8-9/10"},
		{"end past size", "bytes=8-100", "", 206, "89", "bytes 8-9/10"},
		{"start past size", "bytes=10-", "", 416, "", "bytes */10"},
		{"zero suffix", "bytes=-0", "", 416, "", "bytes */10"},
		{"several ranges ignored", "bytes=0-1,3-4", "", 200, "0123456789", ""},
		{"other unit ignored", "items=0-1", "", 200, "0123456789", ""},
		{"malformed ignored", "bytes=5-2", "", 200, "0123456789", ""},
		{"if-range matches", "bytes=0-0", etag, 206, "0", "bytes 0-0/10"},
		{"if-range stale", "bytes=0-0", `"stale"`, 200, "0123456789", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Range": tc.rng}
			if tc.ifRange != "" {
				hdr["If-Range"] = tc.ifRange
			}
			r := e.get(t, "/digits.txt", hdr)
			if r.status != tc.want || r.header.Get("Content-Range") != tc.cr {
				t.Fatalf("status %d Content-Range %q, want %d %q", r.status, r.header.Get("Content-Range"), tc.want, tc.cr)
			}
			if tc.want != 416 && r.body != tc.body {
				t.Fatalf("body %q, want %q", r.body, tc.body)
			}
		})
	}
}

func TestHead(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	get, head := e.get(t, "/about/", nil), e.do(t, "HEAD", "/about/", nil)
	if head.status != 200 || head.body != "" {
		t.Fatalf("HEAD: status %d body %q", head.status, head.body)
	}
	for _, k := range []string{"Content-Length", "Content-Type", "ETag", "Cache-Control"} {
		if head.header.Get(k) != get.header.Get(k) {
			t.Errorf("HEAD %s = %q, GET has %q", k, head.header.Get(k), get.header.Get(k))
		}
	}
}

func TestEncodings(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	const js = "/assets/index-BxQ3a9Xy.js"
	tests := []struct {
		name, path, accept, wantEnc, wantBody string
	}{
		{"none", js, "", "", "console.log('identity')"},
		{"gzip only", js, "gzip", "gzip", "GZ"},
		{"browser prefers br", js, "gzip, deflate, br, zstd", "br", "BR"},
		{"zstd over gzip", js, "gzip, zstd", "zstd", "ZST"},
		{"q-values win over rank", js, "br;q=0.5, gzip;q=0.9", "gzip", "GZ"},
		{"br refused", js, "br;q=0, gzip", "gzip", "GZ"},
		{"star", js, "*", "br", "BR"},
		{"identity only", js, "identity", "", "console.log('identity')"},
		{"uppercase token", js, "GZIP", "gzip", "GZ"},
		{"only gzip variant exists", "/app.js", "br, gzip", "gzip", "plain js gz"},
		{"no variants", "/data.json", "br, gzip", "", `{"a":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, tc.path, map[string]string{"Accept-Encoding": tc.accept})
			if r.status != 200 || r.header.Get("Content-Encoding") != tc.wantEnc || r.body != tc.wantBody {
				t.Fatalf("got %d enc %q body %q, want enc %q body %q", r.status, r.header.Get("Content-Encoding"), r.body, tc.wantEnc, tc.wantBody)
			}
			hasVariants := tc.path != "/data.json"
			if (r.header.Get("Vary") == "Accept-Encoding") != hasVariants {
				t.Fatalf("Vary = %q", r.header.Get("Vary"))
			}
		})
	}
	t.Run("variants have distinct etags", func(t *testing.T) {
		a := e.get(t, js, nil).header.Get("ETag")
		b := e.get(t, js, map[string]string{"Accept-Encoding": "gzip"}).header.Get("ETag")
		if a == b || a == "" {
			t.Fatalf("identity %q and gzip %q must differ", a, b)
		}
	})
}

func TestCacheHeadersAndTypes(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	tests := []struct {
		path, cache, ctype string
	}{
		{"/", CacheRevalidate, "text/html; charset=utf-8"},
		{"/about/", CacheRevalidate, "text/html; charset=utf-8"},
		{"/assets/index-BxQ3a9Xy.js", CacheImmutable, "text/javascript; charset=utf-8"},
		{"/app.js", CacheRevalidate, "text/javascript; charset=utf-8"},
		{"/data.json", CacheRevalidate, "application/json"},
		{"/logo.svg", CacheRevalidate, "image/svg+xml"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			r := e.get(t, tc.path, nil)
			if r.header.Get("Cache-Control") != tc.cache || r.header.Get("Content-Type") != tc.ctype {
				t.Fatalf("Cache-Control %q Content-Type %q, want %q %q", r.header.Get("Cache-Control"), r.header.Get("Content-Type"), tc.cache, tc.ctype)
			}
		})
	}
}

func TestFingerprinted(t *testing.T) {
	tests := map[string]bool{
		"/assets/index-BxQ3a9Xy.js": true, "/assets/index-BxQ3a9.js": true, "/index-BxQ3a9.js": false,
		"/assets/app.1e4f7ff4d6.js": true, "/chunk.3f9a1c2e.min.js": true, "/assets/index-D-4xQ_aB.css": true,
		"/index.html": false, "/assets/a1b2c3d4e5.html": false, "/jquery-3.7.1.min.js": false,
		"/my-component-v2.js": false, "/assets/logo.svg": false, "/assets/component.js": false, "/Makefile": false,
		// Rollup's base64url hashes without a digit (Vite 6: dist/assets/index-COcDBgFa.css).
		"/assets/index-DLkpbOgU.js": true, "/assets/index-COcDBgFa.css": true, "/assets/vendor-Ab_cD-eF.js": true,
		"/index-DLkpbOgU.js": false, "/assets/index-abcdefgh.js": false, "/assets/index-ABCDEFGH.js": false,
		"/assets/big-component.js": false, "/assets/x-DLkpbOgU.html": false, "/assets/-DLkpbOgU.js": false,
	}
	for p, want := range tests {
		t.Run(p, func(t *testing.T) {
			if got := Fingerprinted(p); got != want {
				t.Fatalf("Fingerprinted(%q) = %v, want %v", p, got, want)
			}
		})
	}
}

func TestErrorsAndMethods(t *testing.T) {
	site := mustSite(t, basicSite)
	tests := []struct {
		name, method, path, notFound string
		want                         int
		body                         string
	}{
		{"config never served", "GET", "/staticwebapp.config.json", "", 404, "Not Found\n"},
		{"plain 404 by default", "GET", "/missing", "", 404, "Not Found\n"},
		{"404 page when configured", "GET", "/missing", "/404.html", 404, "custom not found"},
		{"post to a file", "POST", "/", "", 405, "Method Not Allowed\n"},
		{"options on a file", "OPTIONS", "/", "", 204, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEdge(t, site, Options{NotFoundPage: tc.notFound})
			r := e.do(t, tc.method, tc.path, nil)
			if r.status != tc.want || r.body != tc.body {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tc.want, tc.body)
			}
		})
	}
}

// TestHSTSOverHTTPSOnly: --hsts's Strict-Transport-Security goes with
// answers to requests that came over HTTPS (TLS to the edge, or a trusted
// proxy's X-Forwarded-Proto), never over plain HTTP (RFC 6797 7.2), on
// the lean loop (whose cached header block must tell them apart) and
// net/http alike; nosniff goes with both.
func TestHSTSOverHTTPSOnly(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	e := newTestEdge(t, mustSite(t, basicSite), Options{Headers: SecurityHeaders(HSTS{MaxAge: 365 * 24 * time.Hour}), TrustedProxies: loopback})
	https := map[string]string{"X-Forwarded-Proto": "https"}
	for i, c := range []struct {
		path string
		hdr  map[string]string
		tls  bool
	}{{"/", nil, false}, {"/", https, true}, {"/", nil, false}, {"/app.js", https, true}, {"/app.js", nil, false}} {
		r := e.get(t, c.path, c.hdr)
		if got := r.header.Get("Strict-Transport-Security"); (got == "max-age=31536000") != c.tls || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("request %d %s (lean loop, https %v): HSTS %q, nosniff %q", i, c.path, c.tls, got, r.header.Get("X-Content-Type-Options"))
		}
	}
	for _, overTLS := range []bool{false, true} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if overTLS {
			req.TLS = &tls.ConnectionState{}
		}
		e.h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != overTLS {
			t.Errorf("net/http, TLS %v: HSTS %v", overTLS, got)
		}
	}
}

func TestHeaderRules(t *testing.T) {
	rules := append(SecurityHeaders(HSTS{MaxAge: 365 * 24 * time.Hour}), HeaderRule{
		PathPrefix: "/assets/", Header: map[string]string{"X-Asset": "yes", "Referrer-Policy": ""},
	})
	e := newTestEdge(t, mustSite(t, basicSite), Options{Headers: rules})
	r := e.get(t, "/", nil)
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") == "" {
		t.Fatalf("security headers missing: %v", r.header)
	}
	a := e.get(t, "/assets/index-BxQ3a9Xy.js", nil)
	if a.header.Get("X-Asset") != "yes" || a.header.Get("Referrer-Policy") != "" {
		t.Fatalf("prefix rule not applied: %v", a.header)
	}
	sub := SecurityHeaders(HSTS{MaxAge: time.Hour, IncludeSubdomains: true})[1].Header["Strict-Transport-Security"]
	if sub != "max-age=3600; includeSubDomains" {
		t.Fatalf("with subdomains: %q", sub)
	}
	if rs := SecurityHeaders(HSTS{}); len(rs) != 1 || rs[0].Header["Strict-Transport-Security"] != "" {
		t.Fatal("HSTS sent with no max-age")
	}
	if _, err := NewHandler(NewHosts(), Options{Headers: []HeaderRule{{Header: map[string]string{"Bad Name": "x"}}}}); err == nil {
		t.Fatal("invalid header name accepted")
	}
}

// TestConfigHeadersCannotBreakFraming: a staticwebapp.config.json setting
// the headers the edge writes itself. Before, globalHeaders'
// Transfer-Encoding: chunked went out beside the edge's Content-Length
// (a response no client or proxy can frame) and Connection: close on a
// connection the lean loop kept open; they are now left out (with a
// warning from swa.Parse) on both paths, so two pipelined requests get
// two well-framed answers.
func TestConfigHeadersCannotBreakFraming(t *testing.T) {
	site := map[string]string{
		"index.html": "<h1>home</h1>",
		"staticwebapp.config.json": `{
  "globalHeaders": {"Transfer-Encoding": "chunked", "Connection": "close", "Keep-Alive": "timeout=1", "X-Frame-Options": "DENY"},
  "routes": [{"route": "/*", "headers": {"content-length": "5", "Content-Range": "bytes 0-1/2", "Upgrade": "h2c"}}]
}`,
	}
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, site))
	hosts.SetFallback("prod")
	p := newDiffPair(t, hosts, Options{})
	for name, addr := range map[string]string{"net/http": p.slow, "lean loop": p.fast} {
		t.Run(name, func(t *testing.T) {
			out := exchange(t, addr, g("/")+g("/index.html"))
			if n := strings.Count(out, "HTTP/1.1 200 OK\r\n"); n != 2 {
				t.Fatalf("%d answers to two requests:\n%s", n, out)
			}
			for _, h := range []string{"Transfer-Encoding:", "Connection:", "Keep-Alive:", "Content-Range:", "Upgrade:", "Content-Length: 5\r\n"} {
				if strings.Contains(out, h) {
					t.Errorf("the answer has %q from the config:\n%s", h, out)
				}
			}
			if strings.Count(out, "Content-Length: 13\r\n") != 2 || strings.Count(out, "X-Frame-Options: DENY\r\n") != 2 {
				t.Errorf("want the file's length and the config's other header on both answers:\n%s", out)
			}
		})
	}
}

// TestConfigCacheControlOnlyOnContent: a config's Cache-Control (docs/swa.md's
// Vite example: "/assets/*" immutable for a year) went out on every answer
// of its route, errors and redirects included, so a cache kept the 404 of
// an asset missing for a moment (a replica a release behind, a CDN in
// front) for a year, kept the redirect to sign in after the visitor signed
// in, and answered /.auth/logout itself, so a later sign-out never reached
// the edge. Errors, their redirects and /.auth/* now say no-store; files
// and the routes' own redirects keep the config's.
func TestConfigCacheControlOnlyOnContent(t *testing.T) {
	site := map[string]string{
		"index.html":             "<h1>home</h1>",
		"404.html":               "not found",
		"assets/app-Ab12Cd34.js": "app()",
		"staticwebapp.config.json": `{
  "navigationFallback": {"rewrite": "/index.html", "exclude": ["/assets/*"]},
  "routes": [
    {"route": "/assets/*", "headers": {"cache-control": "public, max-age=31536000, immutable"}},
    {"route": "/admin*", "allowedRoles": ["admin"], "headers": {"Cache-Control": "public, max-age=3600"}},
    {"route": "/old", "redirect": "/", "statusCode": 301},
    {"route": "/gone", "statusCode": 404}
  ],
  "responseOverrides": {"401": {"redirect": "/.auth/login/aad?post_login_redirect_uri=.referrer", "statusCode": 302}},
  "globalHeaders": {"Cache-Control": "public, max-age=600", "X-Frame-Options": "DENY"}
}`,
	}
	e := newTestEdge(t, mustSite(t, site), Options{SessionKey: make([]byte, 32), NotFoundPage: "/404.html"}) // as phoenix serve
	for _, c := range []struct {
		path   string
		status int
		cache  string
	}{
		{"/assets/app-Ab12Cd34.js", 200, "public, max-age=31536000, immutable"},
		{"/", 200, "public, max-age=600"},
		{"/dashboard", 200, "public, max-age=600"}, // the fallback
		{"/old", 301, "public, max-age=600"},       // the route's own redirect
		{"/assets/app-00000000.js", 404, "no-store"},
		{"/gone", 404, "no-store"},
		{"/admin/users", 302, "no-store"}, // 401 → sign in
		{"/.auth/logout", 302, "no-store"},
		{"/.auth/me", 200, "no-store"},
	} {
		for _, m := range []string{"GET", "HEAD"} {
			r := e.do(t, m, c.path, nil)
			if r.status != c.status || r.header.Get("Cache-Control") != c.cache || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s %s: %d Cache-Control %q X-Frame-Options %q; want %d %q DENY",
					m, c.path, r.status, r.header.Get("Cache-Control"), r.header.Get("X-Frame-Options"), c.status, c.cache)
			}
		}
	}
}

// TestAuthAnswersCarryTheSecurityHeaders: /.auth/* answers (the sign-in
// page, /.auth/me, the sign-out redirect) carry the server's header rules
// as every other answer does: nosniff, Referrer-Policy, HSTS over HTTPS.
func TestAuthAnswersCarryTheSecurityHeaders(t *testing.T) {
	e := newTestEdge(t, mustSite(t, map[string]string{"index.html": "<h1>home</h1>"}),
		Options{SessionKey: make([]byte, 32), Headers: SecurityHeaders(HSTS{})})
	for _, path := range []string{"/.auth/me", "/.auth/logout", "/.auth/login/nope", "/"} {
		r := e.do(t, "GET", path, nil)
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
			t.Errorf("%s: %d, nosniff %q, Referrer-Policy %q", path, r.status, r.header.Get("X-Content-Type-Options"), r.header.Get("Referrer-Policy"))
		}
	}
}

// TestPlatformCacheDefaultIsTheEdgesCall: swa's platform default
// Cache-Control (Azure's must-revalidate, max-age=30) is never sent: a
// route's own status with a rewrite (418) is no-store, as is the 204 an
// OPTIONS request gets; a config's own Cache-Control is kept.
func TestPlatformCacheDefaultIsTheEdgesCall(t *testing.T) {
	e := newTestEdge(t, mustSite(t, map[string]string{
		"index.html": "<h1>home</h1>",
		"staticwebapp.config.json": `{"routes": [{"route": "/teapot", "rewrite": "/index.html", "statusCode": 418},
  {"route": "/kept", "rewrite": "/index.html", "statusCode": 418, "headers": {"Cache-Control": "max-age=5"}}],
  "responseOverrides": {"404": {"statusCode": 404}}}`,
	}), Options{SessionKey: make([]byte, 32)})
	for _, c := range []struct{ method, path, cache string }{
		{"GET", "/teapot", "no-store"}, {"GET", "/kept", "max-age=5"}, {"OPTIONS", "/", "no-store"}, {"GET", "/", "no-cache"},
	} {
		r := e.do(t, c.method, c.path, nil)
		if got := r.header.Get("Cache-Control"); got != c.cache {
			t.Errorf("%s %s: %d Cache-Control %q, want %q", c.method, c.path, r.status, got, c.cache)
		}
	}
}

// TestEveryAnswerCarriesTheSecurityHeaders: the server's header rules
// (nosniff, Referrer-Policy, HSTS over HTTPS) and the project's policy
// rules go with every answer of a site, not only with its files: the
// plain 404 of a site without 404.html, the 405 of a POST to a file, a
// redirect, a 401 for a role, and /api/* with and without an API backend.
func TestEveryAnswerCarriesTheSecurityHeaders(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	site := mustSite(t, map[string]string{
		"index.html": "<h1>home</h1>",
		"staticwebapp.config.json": `{"routes": [{"route": "/old", "redirect": "/"},
  {"route": "/admin/*", "allowedRoles": ["admin"]}]}`,
	})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("api")) })
	for _, backend := range []http.Handler{nil, api} {
		e := newTestEdge(t, site, Options{SessionKey: make([]byte, 32), API: backend,
			Headers: SecurityHeaders(HSTS{MaxAge: time.Hour}), TrustedProxies: loopback})
		if err := e.hosts.SetPolicy("prod", &Policy{Headers: []PolicyRule{
			{Name: "all", Set: map[string]string{"X-Policy": "yes"}}}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			method, path string
			status       int
		}{{"GET", "/missing", 404}, {"POST", "/index.html", 405}, {"GET", "/old", 302}, {"GET", "/admin/x", 401},
			{"GET", "/api/hello", map[bool]int{true: 404, false: 200}[backend == nil]}} {
			r := e.do(t, c.method, c.path, map[string]string{"X-Forwarded-Proto": "https"})
			if r.status != c.status || r.header.Get("X-Content-Type-Options") != "nosniff" ||
				r.header.Get("Referrer-Policy") == "" || r.header.Get("Strict-Transport-Security") != "max-age=3600" ||
				r.header.Get("X-Policy") != "yes" {
				t.Errorf("API backend %v, %s %s: %d (want %d), headers %v", backend != nil, c.method, c.path, r.status, c.status, r.header)
			}
		}
	}
}
