package edge

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestHTTPSRedirect: on the plain listener (the lean loop in front of
// net/http), a host served over HTTPS is redirected with its path and
// query, an ACME challenge is answered for it, and other hosts are served.
func TestHTTPSRedirect(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	front := &HTTPSRedirect{Handler: e.h, HTTPSPort: "8443",
		Secure: func(host string) bool { return host == "shop.example.com" },
		Challenge: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/.well-known/acme-challenge/tok" {
				return false
			}
			_, _ = io.WriteString(w, "tok.thumbprint")
			return true
		}}
	srv := &Server{Handler: front}
	plain := &testEdge{URL: startServer(t, srv), h: e.h}
	r := plain.do(t, http.MethodPost, "/a%20b/c?x=1", map[string]string{"Host": "SHOP.example.com:80"})
	if r.status != http.StatusPermanentRedirect || r.header.Get("Location") != "https://shop.example.com:8443/a%20b/c?x=1" {
		t.Errorf("secure host: %d Location %q; want 308 to https://shop.example.com:8443/a%%20b/c?x=1", r.status, r.header.Get("Location"))
	}
	if r := plain.get(t, "/.well-known/acme-challenge/tok", map[string]string{"Host": "shop.example.com"}); r.status != 200 || r.body != "tok.thumbprint" {
		t.Errorf("challenge: %d %q", r.status, r.body)
	}
	if r := plain.get(t, "/.well-known/acme-challenge/other", map[string]string{"Host": "shop.example.com"}); r.status != http.StatusPermanentRedirect {
		t.Errorf("a challenge path that is no challenge: %d, want the redirect", r.status)
	}
	if r := plain.get(t, "/", map[string]string{"Host": "prod.site.localhost"}); r.status != 200 || r.body != "<h1>home</h1>" {
		t.Errorf("other host: %d %q; want the site", r.status, r.body)
	}
	if st := srv.lean.Load(); st == nil {
		t.Error("the plain listener does not run the lean loop in front of the redirect")
	}
	front.HTTPSPort = "443"
	if r := plain.get(t, "/p", map[string]string{"Host": "shop.example.com"}); r.header.Get("Location") != "https://shop.example.com/p" {
		t.Errorf("port 443: Location %q", r.header.Get("Location"))
	}
}

// TestServerTLSConfig: a Server with a TLSConfig (certificates chosen per
// handshake) serves HTTP/2.
func TestServerTLSConfig(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	certFile, keyFile, pool := selfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	cfg := &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		asked = append(asked, h.ServerName)
		return &cert, nil
	}}
	base := startServer(t, &Server{Handler: e.h, TLSConfig: cfg})
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base %s", base)
	}
	if proto, status, _ := getHTTPS(t, base+"/", pool); status != 200 || proto != "HTTP/2.0" || len(asked) != 1 {
		t.Fatalf("got %s %d after %d GetCertificate calls, want HTTP/2 200 after 1", proto, status, len(asked))
	}
}

func TestHostsRoutes(t *testing.T) {
	hosts := NewHosts()
	hosts.SetFallback("prod")
	if err := hosts.AddHost("www.example.com", "prod"); err != nil {
		t.Fatal(err)
	}
	if !hosts.Routes("WWW.example.com:443") || !hosts.Routes("www.example.com.") || hosts.Routes("other.example.com") {
		t.Error("Routes: want true for the added host only (not for what the fallback answers)")
	}
	hosts.RemoveHost("www.example.com")
	if hosts.Routes("www.example.com") {
		t.Error("Routes after RemoveHost: true")
	}
}

// SetHosts routes exactly the names given: a name left out stops routing
// to the environment, a name another environment had moves, and the other
// environment's remaining names stay.
func TestSetHosts(t *testing.T) {
	hosts := NewHosts()
	if err := hosts.SetHosts("prod", []string{"www.example.com", "Example.COM."}); err != nil {
		t.Fatal(err)
	}
	if err := hosts.SetHosts("staging", []string{"staging.example.com", "beta.example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := hosts.SetHosts("prod", []string{"example.com", "beta.example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := hosts.HostsOf("prod"); !slices.Equal(got, []string{"beta.example.com", "example.com"}) {
		t.Errorf("prod routes %q", got)
	}
	if got := hosts.HostsOf("staging"); !slices.Equal(got, []string{"staging.example.com"}) {
		t.Errorf("staging routes %q", got)
	}
	if hosts.Routes("www.example.com") {
		t.Error("a name left out still routes")
	}
	if err := hosts.SetHosts("prod", []string{"ok.example.com", ":80"}); err == nil || !hosts.Routes("example.com") {
		t.Errorf("an empty name: %v, and the table must be left as it was", err)
	}
}
