package edge

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/throttle"
)

func TestRateLimit(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	e := newTestEdge(t, mustSite(t, basicSite), Options{RateLimit: 1, RateBurst: 2, Now: func() time.Time { return now }})
	for i := range 2 {
		if r := e.get(t, "/", nil); r.status != 200 {
			t.Fatalf("request %d within burst: %d", i, r.status)
		}
	}
	r := e.get(t, "/", nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	now = now.Add(time.Second)
	if r := e.get(t, "/", nil); r.status != 200 {
		t.Fatalf("after refill: %d", r.status)
	}
	if s := e.h.Snapshot()[0]; s.Limited != 1 || s.ByClass[4] != 1 {
		t.Fatalf("telemetry: limited %d 4xx %d", s.Limited, s.ByClass[4])
	}
}

func TestLimiterEviction(t *testing.T) {
	l := newIPLimiter(10, 10)
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		l.allow(netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}), t0)
	}
	if l.size() != 100 {
		t.Fatalf("tracked %d clients, want 100", l.size())
	}
	// One new client per shard after the idle period sweeps the old ones.
	for i := range 1000 {
		l.allow(netip.AddrFrom4([4]byte{10, 1, byte(i / 256), byte(i)}), t0.Add(limiterIdle+time.Second))
	}
	if n := l.size(); n != 1000 {
		t.Fatalf("tracked %d clients after sweep, want the 1000 fresh ones", n)
	}
	a := netip.MustParseAddr("2001:db8::1")
	b := netip.MustParseAddr("2001:db8::ffff")
	if throttle.ClientAddr(a) != throttle.ClientAddr(b) {
		t.Fatal("addresses of one IPv6 /64 must share a bucket")
	}
}

func TestAllowList(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{})
	tests := []struct {
		name  string
		allow []netip.Prefix
		want  int
	}{
		{"no list", nil, 200},
		{"loopback allowed", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, 200},
		{"other range only", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.hosts.SetAllowedIPs("prod", tc.allow); err != nil {
				t.Fatal(err)
			}
			if r := e.get(t, "/", nil); r.status != tc.want {
				t.Fatalf("status %d, want %d", r.status, tc.want)
			}
		})
	}
	if err := e.hosts.SetAllowedIPs("nope", nil); err == nil {
		t.Fatal("allow-list for an unknown environment accepted")
	}
}

func TestHostRouting(t *testing.T) {
	hosts := NewHosts()
	hosts.SetSite("prod", mustSite(t, map[string]string{"index.html": "prod"}))
	hosts.SetSite("staging", mustSite(t, map[string]string{"index.html": "staging"}))
	for env, host := range map[string]string{"prod": DefaultHost("prod", "shop"), "staging": DefaultHost("staging", "shop")} {
		if err := hosts.AddHost(host, env); err != nil {
			t.Fatal(err)
		}
	}
	h, err := NewHandler(hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEdge{URL: newServer(t, h), h: h, hosts: hosts}
	tests := []struct{ host, body string }{
		{"prod.shop.localhost", "prod"},
		{"STAGING.shop.localhost:8080", "staging"},
		{"staging.shop.localhost.", "staging"},
		{"other.localhost", "unknown host\n"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			if r := e.get(t, "/", map[string]string{"Host": tc.host}); r.body != tc.body {
				t.Fatalf("body %q, want %q", r.body, tc.body)
			}
		})
	}
	hosts.SetSite("staging", nil)
	if r := e.get(t, "/", map[string]string{"Host": "staging.shop.localhost"}); r.status != 503 {
		t.Fatalf("deactivated environment: %d, want 503", r.status)
	}
	if prev := hosts.RemoveEnv("prod"); prev == nil || prev.ID() == "" {
		t.Fatal("RemoveEnv did not return the served site")
	}
	if r := e.get(t, "/", map[string]string{"Host": "prod.shop.localhost"}); r.status != 404 {
		t.Fatalf("removed environment: %d, want 404", r.status)
	}
}

// rawGet sends a request line as-is over TCP and returns the status line
// and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}

func TestTraversalOverTheWire(t *testing.T) {
	outer := t.TempDir()
	secret := outer + "/secret.txt"
	writeFile(t, secret, "TOP SECRET")
	e := newTestEdge(t, mustSite(t, map[string]string{"index.html": "home", "a/b.txt": "b"}), Options{})
	addr := strings.TrimPrefix(e.URL, "http://")
	for _, target := range []string{
		"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/a/..%2f..%2fsecret.txt",
		"/..%5csecret.txt", "/a/%2e%2e%5c%2e%2e%5csecret.txt", "/%252e%252e/secret.txt",
		"/%c0%ae%c0%ae/secret.txt", "/%e0%80%ae%e0%80%ae/secret.txt", "/a/b.txt%00.html",
		"/./index.html", "/a/./b.txt", "/a%2fb.txt%2f..",
	} {
		t.Run(target, func(t *testing.T) {
			status, body := rawGet(t, addr, target)
			if status != http.StatusBadRequest || strings.Contains(body, "SECRET") {
				t.Fatalf("%s: %d %q, want 400", target, status, body)
			}
		})
	}
	t.Run("double slashes collapse", func(t *testing.T) {
		if status, body := rawGet(t, addr, "//a///b.txt"); status != 200 || body != "b" {
			t.Fatalf("got %d %q", status, body)
		}
	})
}

func TestBodyAndHeaderLimits(t *testing.T) {
	e := newTestEdge(t, mustSite(t, basicSite), Options{MaxBodyBytes: 10})
	req, _ := http.NewRequest("POST", e.URL+"/", strings.NewReader(strings.Repeat("x", 100)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d, want 413", resp.StatusCode)
	}
	srv := startServer(t, &Server{Handler: e.h, MaxHeaderBytes: 1024})
	req, _ = http.NewRequest("GET", srv+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("y", 8192))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("big header: %d, want 431", resp.StatusCode)
	}
}
