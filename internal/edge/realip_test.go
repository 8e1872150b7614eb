package edge

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

var testProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}

func TestRealIP(t *testing.T) {
	for _, c := range []struct {
		name, peer string
		xff        []string
		trusted    []netip.Prefix
		want       string
	}{
		{"no proxies: the header is ignored", "198.51.100.7:5000", []string{"203.0.113.9"}, nil, "198.51.100.7"},
		{"untrusted peer: the header is ignored", "198.51.100.7:5000", []string{"203.0.113.9"}, testProxies, "198.51.100.7"},
		{"one proxy", "10.0.0.5:5000", []string{"203.0.113.9"}, testProxies, "203.0.113.9"},
		{"two proxies, a spoofed entry left of the client", "10.0.0.5:5000", []string{"1.2.3.4, 203.0.113.9, 10.0.0.6"}, testProxies, "203.0.113.9"},
		{"header lines are one list", "10.0.0.5:5000", []string{"1.2.3.4", "203.0.113.9, 10.1.1.1"}, testProxies, "203.0.113.9"},
		{"every entry a proxy: the leftmost", "10.0.0.5:5000", []string{"10.0.0.9, 10.0.0.8"}, testProxies, "10.0.0.9"},
		{"no header: the proxy", "10.0.0.5:5000", nil, testProxies, "10.0.0.5"},
		{"garbage stops at the proxy that wrote it", "10.0.0.5:5000", []string{"203.0.113.9, nonsense, 10.0.0.6"}, testProxies, "10.0.0.6"},
		{"ports and brackets", "[fd00::1]:443", []string{"[2001:db8::7]:4711"}, testProxies, "2001:db8::7"},
		{"a v4-mapped entry", "10.0.0.5:5000", []string{"::ffff:203.0.113.9"}, testProxies, "203.0.113.9"},
		{"empty entries are garbage", "10.0.0.5:5000", []string{"203.0.113.9,"}, testProxies, "10.0.0.5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := RealIP(r, c.trusted); got != netip.MustParseAddr(c.want) {
				t.Errorf("RealIP = %s, want %s", got, c.want)
			}
		})
	}
}

// TestTrustedProxiesOnTheEdge: behind a trusted proxy the allow-list sees
// the forwarded client, on the lean loop and on net/http alike; without
// trusted proxies a forged header changes nothing.
func TestTrustedProxiesOnTheEdge(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	office := []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	behind := newTestEdge(t, mustSite(t, basicSite), Options{TrustedProxies: loopback})
	direct := newTestEdge(t, mustSite(t, basicSite), Options{})
	for _, e := range []*testEdge{behind, direct} {
		if err := e.hosts.SetAllowedIPs("prod", office); err != nil {
			t.Fatal(err)
		}
	}
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	if r := behind.get(t, "/", from("203.0.113.9")); r.status != 200 {
		t.Errorf("a client in the office behind the proxy: %d", r.status)
	}
	if r := behind.get(t, "/", from("198.51.100.7")); r.status != 403 {
		t.Errorf("a client outside behind the proxy: %d", r.status)
	}
	if r := direct.get(t, "/", from("203.0.113.9")); r.status != 403 {
		t.Errorf("a forged X-Forwarded-For without trusted proxies: %d", r.status)
	}
	// net/http (ServeHTTP): the same answer, and the request's RemoteAddr
	// becomes the client, for the handlers after the edge's own checks.
	for ip, want := range map[string]int{"203.0.113.9": 200, "198.51.100.7": 403} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		req.Header.Set("X-Forwarded-For", ip)
		behind.h.ServeHTTP(rec, req)
		if rec.Code != want || req.RemoteAddr != ip+":0" {
			t.Errorf("ServeHTTP from %s behind the proxy: %d, RemoteAddr %s", ip, rec.Code, req.RemoteAddr)
		}
	}
}

// FuzzRealIP: any header from a trusted proxy gives an address that is
// the peer or one written in the header, never a panic.
func FuzzRealIP(f *testing.F) {
	f.Add("203.0.113.9, 10.0.0.6")
	f.Add("[2001:db8::7]:4711,,garbage")
	f.Fuzz(func(t *testing.T, xff string) {
		r := &http.Request{RemoteAddr: "10.0.0.5:5000", Header: http.Header{"X-Forwarded-For": {xff}}}
		got := RealIP(r, testProxies)
		if !got.IsValid() {
			t.Fatalf("RealIP(%q) is not an address", xff)
		}
	})
}

// TestForwardedHTTPS: behind a trusted load balancer that ends TLS
// (X-Forwarded-Proto: https), a header rule for https applies, on the
// lean loop and net/http alike, and the HTTPS front does not redirect to
// HTTPS again (a loop); the same header from anyone else changes nothing.
func TestForwardedHTTPS(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	hsts := &Policy{Headers: []PolicyRule{{Name: "HSTS", Scheme: "https", Set: map[string]string{"Strict-Transport-Security": "max-age=31536000"}}}}
	behind := newTestEdge(t, mustSite(t, basicSite), Options{TrustedProxies: loopback})
	direct := newTestEdge(t, mustSite(t, basicSite), Options{})
	for _, e := range []*testEdge{behind, direct} {
		if err := e.hosts.SetPolicy("prod", hsts); err != nil {
			t.Fatal(err)
		}
	}
	xfp := func(v string) map[string]string { return map[string]string{"X-Forwarded-Proto": v} }
	for name, c := range map[string]struct {
		e    *testEdge
		hdr  map[string]string
		hsts bool
	}{
		"trusted, https":       {behind, xfp("https"), true},
		"trusted, HTTPS, list": {behind, xfp("HTTPS, http"), true},
		"trusted, http":        {behind, xfp("http"), false},
		"trusted, none":        {behind, nil, false},
		"untrusted, https":     {direct, xfp("https"), false},
	} {
		r := c.e.get(t, "/", c.hdr)
		if got := r.header.Get("Strict-Transport-Security") != ""; r.status != 200 || got != c.hsts {
			t.Errorf("%s (lean loop): %d, HSTS %v, want %v", name, r.status, got, c.hsts)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = "127.0.0.1:5000"
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		c.e.h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != c.hsts {
			t.Errorf("%s (net/http): HSTS %v, want %v", name, got, c.hsts)
		}
	}

	for name, c := range map[string]struct {
		e        *testEdge
		redirect bool
	}{"trusted": {behind, false}, "untrusted": {direct, true}} {
		front := &HTTPSRedirect{Handler: c.e.h, HTTPSPort: "443", Secure: func(string) bool { return true }}
		plain := &testEdge{URL: startServer(t, &Server{Handler: front}), h: c.e.h}
		r := plain.get(t, "/", map[string]string{"Host": "shop.example.com", "X-Forwarded-Proto": "https"})
		if got := r.status == http.StatusPermanentRedirect; got != c.redirect {
			t.Errorf("HTTPS front, %s proxy saying https: %d, redirect %v, want %v", name, r.status, got, c.redirect)
		}
	}
}
