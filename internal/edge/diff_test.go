package edge

import (
	"encoding/base64"
	"fmt"
	"github.com/phoenixvc/phoenix/internal/testkit"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// diffSPA is a site whose config exercises the rules: roles, redirects,
// rewrites, route statuses, fallback, overrides, headers and mime types.
var diffSPA = map[string]string{
	"index.html":             "<!doctype html><title>spa</title>",
	"about.html":             "about page",
	"403.html":               "custom forbidden",
	"admin/index.html":       "admin area",
	"assets/app-Ab12Cd34.js": "app()", "assets/app-Ab12Cd34.js.br": "BR",
	"notes/readme.md": "# notes",
	"styles/site.css": "body{}",
	"staticwebapp.config.json": `{
  "routes": [
    {"route": "/admin/*", "allowedRoles": ["admin"]},
    {"route": "/old", "redirect": "/about.html", "statusCode": 301},
    {"route": "/temp", "redirect": "/about.html"},
    {"route": "/blocked", "statusCode": 404},
    {"route": "/members/*", "allowedRoles": ["authenticated"]},
    {"route": "/rewrite-me", "rewrite": "/about.html"},
    {"route": "/signin", "rewrite": "/.auth/login/dev"},
    {"route": "/styles/*", "headers": {"X-Style": "1", "Cache-Control": ""}}
  ],
  "navigationFallback": {"rewrite": "/index.html", "exclude": ["/assets/*", "*.{css,png}"]},
  "responseOverrides": {"401": {"redirect": "/.auth/login/dev", "statusCode": 302}, "403": {"rewrite": "/403.html"}},
  "globalHeaders": {"X-Frame-Options": "DENY"},
  "mimeTypes": {".md": "text/markdown"}
}`,
}

var diffBasic = func() map[string]string {
	m := map[string]string{"big.bin": strings.Repeat("0123456789abcdef", 7000)} // 112,000 bytes: sendfile
	for k, v := range basicSite {
		m[k] = v
	}
	return m
}()

// diffPair is one edge state served twice: by net/http alone and by the
// lean loop. Both handlers share the Hosts, so releases and activation
// times are the same; each has its own rate limiter.
type diffPair struct {
	slow, fast string
	lean       *Server
}

func newDiffPair(t *testing.T, hosts *Hosts, opts Options) diffPair {
	t.Helper()
	var p diffPair
	for i, dst := range []*string{&p.slow, &p.fast} {
		h, err := NewHandler(hosts, opts)
		if err != nil {
			t.Fatal(err)
		}
		s := &Server{Handler: h, DisableFastPath: i == 0}
		*dst = strings.TrimPrefix(startServer(t, s), "http://")
		p.lean = s
		exchange(t, *dst, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // Serve is running once this is answered
	}
	return p
}

// exchange writes raw to addr, half-closes and returns everything the
// server sent until it closed, with Date values blanked.
func exchange(t *testing.T, addr, raw string) string { return testkit.RawExchange(t, addr, raw) }

// rq builds a raw HTTP/1.1 request; lines are header lines.
func rq(method, target, host string, lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, l := range lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func g(target string, lines ...string) string { return rq("GET", target, "www.example.com", lines...) }

func TestFastPathMatchesNetHTTP(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	basic, spa := mustSite(t, diffBasic), mustSite(t, diffSPA)
	hosts := NewHosts()
	hosts.SetSite("prod", basic)
	hosts.SetFallback("prod")
	hosts.SetSite("spa", spa)
	_ = hosts.AddHost("spa.test", "spa")
	hosts.SetSite("iplist", basic)
	_ = hosts.AddHost("ipl.test", "iplist")
	_ = hosts.SetAllowedIPs("iplist", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	hosts.SetSite("off", nil)
	_ = hosts.AddHost("off.test", "off")
	opts := Options{
		SessionKey: testKey, Now: clock, NotFoundPage: "/404.html", TrustedPrincipalHeader: "X-Ms-Client-Principal",
		Headers:       append(SecurityHeaders(HSTS{MaxAge: time.Hour}), HeaderRule{PathPrefix: "/assets/", Header: map[string]string{"X-Asset": "yes"}}),
		Authenticator: &DevLogin{Users: []DevUser{{Name: "ada", Password: "pw", Roles: []string{"admin"}}}},
		API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "api %s %v", r.URL.Path, r.Header.Get(ClientPrincipalHeader) != "")
		}),
	}
	pair := newDiffPair(t, hosts, opts)
	limited := newDiffPair(t, hosts, Options{SessionKey: testKey, Now: clock, RateLimit: 1, RateBurst: 2})
	cases := diffCases(t, basic, spa, clock)
	if len(cases) < 100 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := pair
			if tc.limited {
				p = limited
			}
			before := p.lean.lean.Load().Stats()
			want, got := exchange(t, p.slow, tc.raw), exchange(t, p.fast, tc.raw)
			after := p.lean.lean.Load().Stats()
			fast, handed := after.Fast > before.Fast, after.HandedOff > before.HandedOff
			if fast != (tc.via != 'n') || handed != (tc.via != 'f') {
				t.Errorf("served by the lean loop: %v, handed to net/http: %v; want via %c", fast, handed, tc.via)
			}
			if want != got {
				t.Fatalf("request %q\nnet/http:\n%s\nfast path:\n%s", tc.raw, want, got)
			}
			if want == "" {
				t.Fatalf("no answer to %q", tc.raw)
			}
		})
	}
}

type diffCase struct {
	name    string
	raw     string
	limited bool
	via     byte // 'f': the lean loop answers; 'n': handed to net/http; 'b': both (pipelined)
}

// netHTTPCases are answered by net/http after the lean loop declined or
// could not parse them; every other GET/HEAD case must stay on the lean loop.
var netHTTPCases = map[string]bool{
	"target /bad%zzescape": true, "target /%": true, "target /a b": true, "target /?a=b;c": true,
	"host edge.phoenix.localhost:80": true, "admin health": true, "admin other": true,
	"spa /.auth/me": true, "spa /.auth/login/dev": true, "spa /.auth/login/bad!": true,
	"spa /.auth/logout?post_logout_redirect_uri=/about.html": true, "spa /signin": true,
	"spa /api/users?id=1": true, "session me": true, "session api": true,
}

// diffCases lists the requests; each is sent on its own connection.
func diffCases(t *testing.T, basic, spa *DirSite, clock func() time.Time) []diffCase {
	etag := basic.Lookup("/index.html").Identity.ETag
	digits := basic.Lookup("/digits.txt").Identity.ETag
	later := clock().Add(time.Hour).Format(http.TimeFormat)
	longAgo := time.Unix(0, 0).UTC().Format(http.TimeFormat)
	signer := sessionSigner{key: testKey, ttl: time.Hour}
	admin, _ := signer.mint(Principal{IdentityProvider: "dev", UserID: "ada", UserDetails: "ada", UserRoles: []string{"admin"}}, "spa", clock())
	other, _ := signer.mint(Principal{UserID: "bob", UserRoles: []string{"admin"}}, "prod", clock())
	expired, _ := signer.mint(Principal{UserID: "ada", UserRoles: []string{"admin"}}, "spa", clock().Add(-2*time.Hour))
	principal := base64.StdEncoding.EncodeToString([]byte(`{"identityProvider":"proxy","userId":"u1","userDetails":"u1","userRoles":["admin"]}`))
	const js = "/assets/index-BxQ3a9Xy.js"
	var cs []diffCase
	add := func(name, raw string) {
		via := byte('f')
		if netHTTPCases[name] || !(strings.HasPrefix(raw, "GET / HTTP/1.1") || strings.HasPrefix(raw, "GET /") ||
			strings.HasPrefix(raw, "HEAD /")) {
			via = 'n'
		}
		cs = append(cs, diffCase{name: name, raw: raw, via: via})
	}
	slow := func(name, raw string) { cs = append(cs, diffCase{name: name, raw: raw, via: 'n'}) }
	both := func(name, raw string) { cs = append(cs, diffCase{name: name, raw: raw, via: 'b'}) }
	for _, p := range []string{"/", "/index.html", "/about/", "/about", "/about/index.html", "/data.json", "/logo.svg",
		"/app.js", js, "/digits.txt", "/big.bin", "/missing", "/staticwebapp.config.json", "/404.html", "/assets/", "/a/b/c/"} {
		add("GET "+p, g(p))
		add("HEAD "+p, rq("HEAD", p, "www.example.com"))
	}
	for name, h := range map[string]string{
		"inm same": "If-None-Match: " + etag, "inm list": `If-None-Match: "x", ` + etag, "inm weak": "If-None-Match: W/" + etag,
		"inm star": "If-None-Match: *", "inm other": `If-None-Match: "other"`, "ims later": "If-Modified-Since: " + later,
		"ims long ago": "If-Modified-Since: " + longAgo, "ims bad date": "If-Modified-Since: yesterday",
		"if-match other": `If-Match: "other"`, "if-match same": "If-Match: " + etag, "ius long ago": "If-Unmodified-Since: " + longAgo,
	} {
		add("cond "+name, g("/", h))
		add("cond head "+name, rq("HEAD", "/", "x", h))
	}
	add("cond etag wins", g("/", `If-None-Match: "other"`, "If-Modified-Since: "+later))
	for _, r := range []string{"bytes=0-3", "bytes=7-", "bytes=-2", "bytes=8-100", "bytes=10-", "bytes=-0", "bytes=0-1,3-4",
		"items=0-1", "bytes=5-2", "bytes=x-y"} {
		add("range "+r, g("/digits.txt", "Range: "+r))
	}
	add("if-range match", g("/digits.txt", "Range: bytes=0-0", "If-Range: "+digits))
	add("if-range stale", g("/digits.txt", "Range: bytes=0-0", `If-Range: "stale"`))
	add("if-range date", g("/digits.txt", "Range: bytes=0-0", "If-Range: "+later))
	for _, r := range []string{"bytes=0-99", "bytes=70000-", "bytes=-10", "bytes=112000-", "bytes=1000-80000"} {
		add("big range "+r, g("/big.bin", "Range: "+r))
	}
	for _, ae := range []string{"gzip", "gzip, deflate, br, zstd", "gzip, zstd", "br;q=0.5, gzip;q=0.9", "br;q=0, gzip", "*",
		"identity", "GZIP", "gzip;q=bad", ""} {
		add("encoding "+ae, g(js, "Accept-Encoding: "+ae))
	}
	add("encoding twice", g(js, "Accept-Encoding: zstd", "Accept-Encoding: gzip"))
	add("encoding only gzip variant", g("/app.js", "Accept-Encoding: br, gzip"))
	add("encoding head", rq("HEAD", js, "x", "Accept-Encoding: br"))
	add("encoding 304", g(js, "Accept-Encoding: br", "If-None-Match: "+basic.Lookup(js).Encoded[0].ETag))
	for _, target := range []string{"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/a/..%2f..%2fsecret.txt",
		"/..%5csecret.txt", "/%252e%252e/secret.txt", "/%c0%ae%c0%ae/secret.txt", "/a/b.txt%00.html", "/./index.html",
		"//about///index.html", "/%61bout/", "/caf%C3%A9", "/bad%zzescape", "/%", "/a b", "/index.html?x=%20&y=1",
		"/?a=b;c", "/?q=1?2", "/#frag", "/~user/(x)!*'", "/\xc3\xa9t\xc3\xa9"} {
		add("target "+target, g(target))
	}
	for _, host := range []string{"PROD.example:8080", "[::1]:80", "www.example.com.", "edge.phoenix.localhost:80"} {
		add("host "+host, rq("GET", "/", host))
	}
	add("admin health", rq("GET", "/health", "edge.phoenix.localhost"))
	add("admin other", rq("GET", "/x", "edge.phoenix.localhost"))
	add("admin post", rq("POST", "/health", "edge.phoenix.localhost", "Content-Length: 0"))
	add("env without release", rq("GET", "/", "off.test"))
	add("ip allow-list", rq("GET", "/", "ipl.test"))
	add("ip allow-list traversal", rq("GET", "/%2e%2e/", "ipl.test"))
	spaReq := func(target string, lines ...string) string { return rq("GET", target, "spa.test", lines...) }
	for _, p := range []string{"/", "/about.html", "/old", "/temp", "/blocked", "/rewrite-me", "/deep/link", "/deep/link.png",
		"/assets/missing.js", "/assets/app-Ab12Cd34.js", "/notes/readme.md", "/styles/site.css", "/admin/", "/members/x",
		"/.auth/me", "/.auth/login/dev", "/.auth/login/bad!", "/.auth/logout?post_logout_redirect_uri=/about.html", "/signin",
		"/api/users?id=1", "/temp?x=1"} {
		add("spa "+p, spaReq(p))
	}
	add("spa options", rq("OPTIONS", "/about.html", "spa.test"))
	add("spa br", spaReq("/assets/app-Ab12Cd34.js", "Accept-Encoding: br"))
	add("session admin", spaReq("/admin/", "Cookie: "+SessionCookie+"="+admin))
	add("session with other cookies", spaReq("/admin/", "Cookie: a=1; "+SessionCookie+"="+admin+"; b=2"))
	add("session other env", spaReq("/admin/", "Cookie: "+SessionCookie+"="+other))
	add("session expired", spaReq("/admin/", "Cookie: "+SessionCookie+"="+expired))
	add("session forged", spaReq("/admin/", "Cookie: "+SessionCookie+"=e30.AAAA"))
	add("session me", spaReq("/.auth/me", "Cookie: "+SessionCookie+"="+admin))
	add("session api", spaReq("/api/x", "Cookie: "+SessionCookie+"="+admin))
	add("principal header", spaReq("/admin/", "X-MS-Client-Principal: "+principal))
	add("principal header bad", spaReq("/admin/", "X-MS-Client-Principal: %%%"))
	add("members signed in", spaReq("/members/x", "Cookie: "+SessionCookie+"="+admin))
	add("lower-case names", "GET / HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip\r\nif-none-match: "+etag+"\r\n\r\n")
	add("odd spacing", "GET "+js+" HTTP/1.1\r\nHost:x\r\nAccept-Encoding: \t gzip \t\r\n\r\n")
	add("empty value", g("/", "X-Empty:"))
	add("custom headers", g("/", "X-Custom-Thing: 1", "x-custom-thing: 2", "Sec-Fetch-Mode: navigate"))
	add("connection close", g("/", "Connection: close"))
	add("connection keep-alive", g("/", "Connection: keep-alive"))
	add("connection close head", rq("HEAD", "/missing", "x", "Connection: Keep-Alive, close"))
	slow("connection upgrade", g("/", "Connection: Upgrade", "Upgrade: websocket"))
	slow("pragma", g("/", "Pragma: no-cache"))
	slow("http/1.0", "GET / HTTP/1.0\r\nHost: x\r\n\r\n")
	slow("http/1.0 keep-alive", "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
	add("http/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	slow("http/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n")
	slow("missing host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n")
	slow("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
	slow("bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n")
	slow("empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n")
	slow("bad header name", g("/", "Bad Name: x"))
	slow("bad header value", g("/", "X-Bad: a\x01b"))
	slow("no colon", g("/", "NoColon"))
	slow("folded header", g("/", "X-A: 1", " continued"))
	slow("bare LF", "GET / HTTP/1.1\nHost: x\n\n")
	add("absolute form", "GET http://www.example.com/about/ HTTP/1.1\r\nHost: other\r\n\r\n")
	add("asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
	add("lower-case method", "get / HTTP/1.1\r\nHost: x\r\n\r\n")
	slow("double space", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n")
	add("garbage", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")
	add("leading CRLF", "\r\n"+g("/"))
	slow("big header", g("/", "X-Big: "+strings.Repeat("b", 20000)))
	slow("huge header", g("/", "X-Huge: "+strings.Repeat("h", 70000)))
	slow("expect", rq("GET", "/", "x", "Expect: 100-continue"))
	slow("get with body", rq("GET", "/", "x", "Content-Length: 5")+"hello")
	slow("get zero length", rq("GET", "/", "x", "Content-Length: 0"))
	add("chunked post", rq("POST", "/", "x", "Transfer-Encoding: chunked")+"5\r\nhello\r\n0\r\n\r\n")
	add("post", rq("POST", "/", "x", "Content-Length: 3")+"abc")
	add("post too big", rq("POST", "/", "x", "Content-Length: 2000000"))
	add("delete", rq("DELETE", "/", "x"))
	add("login form post", rq("POST", "/.auth/login/dev", "spa.test", "Content-Type: application/x-www-form-urlencoded",
		"Content-Length: 41")+"username=ada&password=pw&post_login_redirect_uri=/admin/"[:41])
	add("pipelined gets", g("/")+g("/digits.txt", "Range: bytes=1-2")+rq("HEAD", "/missing", "x")+g(js, "Accept-Encoding: gzip"))
	add("pipelined big", g("/big.bin")+g("/")+g("/big.bin", "Range: bytes=5-9"))
	both("pipelined then post", g("/")+rq("POST", "/", "x", "Content-Length: 2")+"hi"+g("/about/"))
	both("pipelined then admin", g("/")+rq("GET", "/health", "edge.phoenix.localhost")+g("/"))
	add("pipelined close", g("/", "Connection: close")+g("/about/"))
	slow("partial request", "GET / HTTP/1.1\r\nHost: x\r\n")
	slow("incomplete line", "GET / HTT")
	cs = append(cs, diffCase{"rate limit", g("/") + g("/") + g("/") + g("/missing"), true, 'f'})
	return cs
}
