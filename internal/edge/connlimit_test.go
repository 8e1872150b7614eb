package edge

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/phoenixvc/phoenix/internal/testkit"
)

// TestConnLimitCounts: a client is an address (an IPv6 one by its /64),
// exempt peers are not counted, and a closed connection frees its place.
func TestConnLimitCounts(t *testing.T) {
	if _, err := NewConnLimit(0, nil); err == nil {
		t.Fatal("NewConnLimit(0) accepted")
	}
	l, err := NewConnLimit(2, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort
	steps := []struct {
		open, close string
		want        bool
	}{
		{open: "192.0.2.1:1000", want: true},
		{open: "[::ffff:192.0.2.1]:1001", want: true}, // the same client, IPv4-mapped
		{open: "192.0.2.1:1002", want: false},
		{open: "192.0.2.2:1000", want: true}, // another client
		{open: "[2001:db8:1:2::1]:1", want: true},
		{open: "[2001:db8:1:2:ffff::9]:2", want: true}, // the same /64
		{open: "[2001:db8:1:2::3]:3", want: false},
		{open: "[2001:db8:1:3::1]:1", want: true}, // the next /64
		{open: "10.1.2.3:1", want: true},          // exempt, however many
		{open: "10.1.2.3:2", want: true},
		{open: "10.1.2.3:3", want: true},
		{close: "192.0.2.1:1000"},
		{open: "192.0.2.1:1003", want: true},
		{close: "10.1.2.3:1"},     // exempt: nothing to uncount
		{close: "198.51.100.7:1"}, // never opened: ignored
		{open: "192.0.2.1:1004", want: false},
	}
	for i, s := range steps {
		if s.close != "" {
			l.Closed(ap(s.close))
			continue
		}
		if got := l.Open(ap(s.open)); got != s.want {
			t.Fatalf("step %d: Open(%s) = %v, want %v", i, s.open, got, s.want)
		}
	}
	if got := l.Clients(); got != 4 {
		t.Fatalf("%d clients counted, want 4 (192.0.2.1, 192.0.2.2, two /64s)", got)
	}
	for _, p := range []string{"192.0.2.1:1", "192.0.2.1:2", "192.0.2.2:1", "[2001:db8:1:2::1]:1", "[2001:db8:1:2::2]:1", "[2001:db8:1:3::1]:1"} {
		l.Closed(ap(p))
	}
	if got := l.Clients(); got != 0 {
		t.Fatalf("%d clients counted after every connection closed, want 0", got)
	}
}

// TestConnLimitAcrossListeners: one ConnLimit shared by the lean loop's
// plain listener and an HTTPS one holds a client to the cap across both;
// connections over it are closed unanswered and counted per listener in
// /metrics; closing one lets the next in.
func TestConnLimitAcrossListeners(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	lim, err := NewConnLimit(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := &Server{Handler: e.h, ConnLimit: lim}
	plainAddr := strings.TrimPrefix(startServer(t, plain), "http://")
	cert, key, pool := selfSigned(t)
	secure := &Server{Handler: e.h, TLSCertFile: cert, TLSKeyFile: key, ConnLimit: lim}
	secureAddr := strings.TrimPrefix(startServer(t, secure), "https://")

	a, err := net.Dial("tcp", plainAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	exchangeKeep(t, a, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	b, err := tls.Dial("tcp", secureAddr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	exchangeKeep(t, b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	testkit.ExpectClosedUnanswered(t, plainAddr)
	testkit.ExpectClosedUnanswered(t, secureAddr)
	if st := plain.ConnStats(); st.Refused != 1 || st.Open != 1 {
		t.Errorf("plain listener: %d refused, %d open; want 1 and 1", st.Refused, st.Open)
	}
	if st := secure.ConnStats(); st.Refused != 1 {
		t.Errorf("HTTPS listener: %d refused, want 1", st.Refused)
	}
	m := e.get(t, "/metrics", map[string]string{"Host": DefaultAdminHost}).body // through the test edge's own listener (no cap)
	for _, want := range []string{
		`phoenix_edge_connections_refused_total{listener="` + plainAddr + `",tls="false"} 1`,
		`phoenix_edge_connections_refused_total{listener="` + secureAddr + `",tls="true"} 1`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, grepLines(m, "refused"))
		}
	}
	b.Close()
	waitUntil(t, "the HTTPS connection's place to free", func() bool { return lim.Clients() == 1 && secure.ConnStats().Open == 0 })
	c, err := net.Dial("tcp", plainAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exchangeKeep(t, c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
}

// TestServeDirMaxConnsPerIP: `phoenix serve --max-conns-per-ip` caps a
// client's connections, and a trusted proxy's are not counted.
func TestServeDirMaxConnsPerIP(t *testing.T) {
	dir := writeTree(t, map[string]string{"index.html": "capped"})
	for _, tc := range []struct {
		name    string
		proxies []netip.Prefix
		refused bool
	}{{"client", nil, true}, {"trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			addr, done := startServeDir(t, ctx, dir, ServeOptions{MaxConnsPerIP: 1, Handler: Options{TrustedProxies: tc.proxies}})
			a, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			exchangeKeep(t, a, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			if tc.refused {
				testkit.ExpectClosedUnanswered(t, addr)
			} else {
				b, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				exchangeKeep(t, b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
