package waf

import (
	"net/netip"
	"testing"
)

// TestHTTP2AndIPv6Pass: a page load over HTTP/2 (no Connection header, the
// authority in r.Host) from an IPv6 client passes; an attack over it does not.
func TestHTTP2AndIPv6Pass(t *testing.T) {
	f := mustNew(t, Config{Mode: "block", Rules: []string{"owasp-core", "bad-bots", "scanners"}})
	client := netip.MustParseAddr("2001:db8:1::42")
	for target, want := range map[string]string{"/": "", "/assets/app.3f9a.js": "", "/?id=1'%20OR%201=1--": "crs-942100"} {
		r := request(t, "GET", target, chromeHeaders, "")
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		if rule, _ := f.Inspect(r, client); rule != want {
			t.Errorf("HTTP/2 %s from %s: Inspect = %q; want %q", target, client, rule, want)
		}
	}
}
