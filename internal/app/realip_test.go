package app

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestWithRealIP: the API sees the forwarded client when the peer is a
// trusted proxy, the peer otherwise, and nothing changes without proxies.
func TestWithRealIP(t *testing.T) {
	t.Parallel()
	var seen string
	h := http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr })
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		peer    string
		trusted []netip.Prefix
		want    string
	}{
		{"10.0.0.5:4000", lb, "203.0.113.9:0"},
		{"198.51.100.7:4000", lb, "198.51.100.7:4000"},
		{"10.0.0.5:4000", nil, "10.0.0.5:4000"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		req.RemoteAddr = c.peer
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		withRealIP(h, c.trusted).ServeHTTP(httptest.NewRecorder(), req)
		if seen != c.want {
			t.Errorf("peer %s, proxies %v: the API saw %s, want %s", c.peer, c.trusted, seen, c.want)
		}
	}
}
