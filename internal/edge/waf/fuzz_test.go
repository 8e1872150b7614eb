package waf

import (
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

var fuzzContentTypes = []string{"", "application/json", "application/x-www-form-urlencoded",
	"multipart/form-data; boundary=xYzZY", "text/xml", "text/plain"}

// FuzzInspect feeds arbitrary request targets, headers, cookies and bodies
// to a Firewall with every rule set on. Inspect must not panic (a recovered
// panic fails the test through onPanic), must report only rule ids of the
// fixed shapes, and must leave the body whole for the handler.
func FuzzInspect(f *testing.F) {
	for _, a := range attacks() {
		u, _ := url.Parse(a.target)
		f.Add(a.method, u.EscapedPath(), u.RawQuery, "X-Test", a.headers["X-Api-Version"], a.headers["Cookie"], a.body, byte(1))
	}
	f.Add("GET", "/", "q=shoes&page=2", "User-Agent", chromeHeaders["User-Agent"], chromeHeaders["Cookie"], "", byte(0))
	f.Add("POST", "/upload", "", "X-Test", "", "", "--xYzZY\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a;.php\"\r\n\r\n<?php system($_GET['c']); ?>\r\n--xYzZY--\r\n", byte(3))
	f.Add("POST", "/soap", "", "SOAPAction", "x", "", "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>", byte(4))
	f.Add("GET", "/%00/..;/%c0%ae%c0%ae/", "a[]=1&a[b]=%zz&=&&", "Transfer-Encoding", "chunked, identity", "a=; =b; ;;", "", byte(2))
	fw := mustNew(f, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	f.Fuzz(func(t *testing.T, method, path, query, name, value, cookie, body string, ct byte) {
		r := fuzzRequest(method, path, query, name, value, cookie, body, fuzzContentTypes[int(ct)%len(fuzzContentTypes)])
		rule, block := fw.Inspect(r, netip.MustParseAddr("203.0.113.7"))
		if !ruleShape.MatchString(rule) || block != (rule != "") {
			t.Fatalf("Inspect = %q, %v", rule, block)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != body {
			t.Fatalf("body after Inspect: %q, %v; want %q", got, err, body)
		}
	})
}

// fuzzRequest builds the request a server could hand a handler, without
// validating anything.
func fuzzRequest(method, path, query, name, value, cookie, body, contentType string) *http.Request {
	h := http.Header{}
	h[name] = []string{value}
	h["Cookie"] = []string{cookie}
	h["User-Agent"] = []string{firefoxHeaders["User-Agent"]}
	if contentType != "" {
		h["Content-Type"] = []string{contentType}
	}
	return &http.Request{
		Method:        method,
		URL:           &url.URL{Path: path, RawQuery: query},
		RequestURI:    path + "?" + query,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Host:          "shop.example.com",
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
	}
}

// FuzzScannerList checks the scanners matcher against the plain definition
// of CRS's @pm: some phrase is a substring of the ASCII-lower-cased value.
func FuzzScannerList(f *testing.F) {
	for _, ua := range []string{"sqlmap/1.8.11#stable", "Mozilla/5.00 (Nikto/2.1.6)", chromeHeaders["User-Agent"], "NUCLEI", "nmap", "n", ""} {
		f.Add(ua)
	}
	l := scannerList()
	f.Fuzz(func(t *testing.T, ua string) {
		folded := strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, ua)
		want := false
		for _, ps := range l.byFirst {
			for _, p := range ps {
				want = want || strings.Contains(folded, p)
			}
		}
		if got := l.matches(http.Header{"User-Agent": {ua}}); got != want {
			t.Fatalf("matches(%q) = %v; want %v", ua, got, want)
		}
	})
}
