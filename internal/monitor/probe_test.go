package monitor

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixvc/phoenix/internal/config"
)

func conds(t *testing.T, ss ...string) []config.Condition {
	t.Helper()
	var yaml strings.Builder
	yaml.WriteString("project: {name: x}\nmonitor:\n  endpoints:\n    - name: p\n      url: https://example.com\n      conditions:\n")
	for _, s := range ss {
		fmt.Fprintf(&yaml, "        - %q\n", s)
	}
	cfg, err := config.Parse([]byte(yaml.String()), "phoenix.yaml")
	if err != nil {
		t.Fatalf("conditions %v: %v", ss, err)
	}
	return cfg.Monitor.Endpoints[0].Conditions
}

func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Release", "v1.1.0")
		fmt.Fprint(w, "<html><title>Phoenix VC</title></html>")
	})
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"UP","checks":[{"name":"db"},{"name":"cache"}],"version":"1.1.0"}`)
	})
	mux.HandleFunc("/lost", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html>\n<h1>lost</h1>\n") })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusMovedPermanently) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Header.Get("X-Probe"), r.Host)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		for r.Context().Err() == nil {
			if _, err := w.Write([]byte(strings.Repeat("x", 1024))); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPProbe(t *testing.T) {
	srv := testServer(t)
	cases := []struct {
		name    string
		target  Target
		ok      bool
		errLike string
	}{
		{"status 200", Target{URL: srv.URL + "/"}, true, ""},
		{"spa fallback caught by content", Target{URL: srv.URL + "/health", Conditions: conds(t, "[BODY] == pat(*Phoenix*)")}, false, "condition failed"},
		{"body pattern", Target{URL: srv.URL + "/", Conditions: conds(t, "[STATUS] == 200", "[BODY] == pat(*Phoenix VC*)")}, true, ""},
		{"body regex", Target{URL: srv.URL + "/", Conditions: conds(t, `[BODY] == regex(<title>[A-Z]\w+ VC</title>)`)}, true, ""},
		{"json path", Target{URL: srv.URL + "/health", Conditions: conds(t, "[BODY].status == UP", "len([BODY].checks) == 2", "[BODY].checks[1].name == cache", "has([BODY].missing) == false")}, true, ""},
		{"page quoted on one line", Target{URL: srv.URL + "/lost", Conditions: conds(t, "[BODY] == pat(*Phoenix*)")}, false,
			"[BODY] == pat(*Phoenix*) (got <!doctype html> <h1>lost</h1>)"},
		{"json path mismatch", Target{URL: srv.URL + "/health", Conditions: conds(t, "[BODY].status == DOWN")}, false, "[BODY].status == DOWN (got UP)"},
		{"response time", Target{URL: srv.URL + "/", Conditions: conds(t, "[RESPONSE_TIME] < 5000")}, true, ""},
		{"status any", Target{URL: srv.URL + "/down", Conditions: conds(t, "[STATUS] == any(200, 503)")}, true, ""},
		{"server error", Target{URL: srv.URL + "/down"}, false, "[STATUS] == 200 (got 503)"},
		{"redirect followed", Target{URL: srv.URL + "/old", Conditions: conds(t, "[STATUS] == 200", "[BODY] == pat(*Phoenix*)")}, true, ""},
		{"redirect not followed", Target{URL: srv.URL + "/old", NoRedirects: true, Conditions: conds(t, "[STATUS] == 301")}, true, ""},
		{"method headers host", Target{URL: srv.URL + "/echo", Method: "POST", Body: "x", Headers: map[string]string{"X-Probe": "yes", "Host": "www.example.com"},
			Conditions: conds(t, "[BODY] == POST yes www.example.com")}, true, ""},
		{"header condition", Target{URL: srv.URL + "/", Conditions: []config.Condition{{Type: "header", Path: "X-Release", Operator: "==", Value: "v1.1.0"}}}, true, ""},
		{"seed mapping form", Target{URL: srv.URL + "/", Conditions: []config.Condition{{Type: "status", Operator: "==", Value: "200"}}}, true, ""},
		{"slow answer times out", Target{URL: srv.URL + "/slow", Timeout: 200 * time.Millisecond}, false, "timeout"},
		{"endless body times out", Target{URL: srv.URL + "/endless", Timeout: 300 * time.Millisecond}, false, ""},
		{"refused", Target{URL: "http://127.0.0.1:1/"}, false, "connection refused"},
		{"no certificate on http", Target{URL: srv.URL + "/", Conditions: conds(t, "[CERTIFICATE_EXPIRATION] > 1h")}, false, "no certificate"},
	}
	p := NewProber()
	defer p.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.target.Name = "p"
			tgt, err := tc.target.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			tgt.Retries = 0
			r := p.Probe(context.Background(), tgt)
			if r.Success != tc.ok {
				t.Fatalf("success = %v, want %v: %s %+v", r.Success, tc.ok, r.Error, r.Conditions)
			}
			if !strings.Contains(r.Error, tc.errLike) {
				t.Errorf("error %q does not mention %q", r.Error, tc.errLike)
			}
			if strings.ContainsAny(r.Error, "\r\n") {
				t.Errorf("error %q is not one line", r.Error)
			}
		})
	}
}

func TestTLSProbe(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	p := NewProber()
	defer p.Close()
	cases := []struct {
		name     string
		insecure bool
		conds    []string
		ok       bool
		errLike  string
	}{
		{"untrusted certificate fails", false, nil, false, "tls:"},
		{"expiry measured", true, []string{"[CERTIFICATE_EXPIRATION] > 240h"}, true, ""},
		{"expiry too soon", true, []string{"[CERTIFICATE_EXPIRATION] > 2000000h"}, false, "CERTIFICATE_EXPIRATION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tgt, _ := Target{Name: "tls", URL: srv.URL, Insecure: tc.insecure}.withDefaults()
			if tc.conds != nil {
				tgt.Conditions = conds(t, tc.conds...)
			}
			tgt.Retries = 0
			r := p.Probe(context.Background(), tgt)
			if r.Success != tc.ok || !strings.Contains(r.Error, tc.errLike) {
				t.Fatalf("success %v error %q", r.Success, r.Error)
			}
			if tc.insecure && r.CertExpiry <= 0 {
				t.Errorf("cert expiry %s", r.CertExpiry)
			}
		})
	}
}

func TestRetriesBeforeFailureCounts(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			w.WriteHeader(502)
		}
	}))
	defer srv.Close()
	tgt, _ := Target{Name: "flaky", URL: srv.URL, RetryDelay: time.Millisecond, Retries: 2}.withDefaults()
	r := NewProber().Probe(context.Background(), tgt)
	if !r.Success || r.Attempts != 3 {
		t.Fatalf("success %v after %d attempts (%s)", r.Success, r.Attempts, r.Error)
	}
	calls = -100
	r = NewProber().Probe(context.Background(), tgt)
	if r.Success || r.Attempts != 3 {
		t.Fatalf("success %v after %d attempts", r.Success, r.Attempts)
	}
}

func TestTCPProbe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	p := NewProber()
	up, _ := Target{Name: "tcp", URL: "tcp://" + addr}.withDefaults()
	if r := p.Probe(context.Background(), up); !r.Success || r.IP != "127.0.0.1" {
		t.Fatalf("open port: %+v", r)
	}
	ln.Close()
	up.Retries = 0
	if r := p.Probe(context.Background(), up); r.Success || r.Error != "connection refused" {
		t.Fatalf("closed port: %+v", r)
	}
}

// dnsServer answers A queries for known names and NXDOMAIN otherwise.
func dnsServer(t *testing.T, records map[string]net.IP) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], records); resp != nil {
				_, _ = pc.WriteTo(resp, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsAnswer(q []byte, records map[string]net.IP) []byte {
	if len(q) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	resp := append([]byte(nil), q[:2]...)
	ip, ok := records[strings.Join(labels, ".")]
	flags := uint16(0x8180) // response, recursion desired and available
	ancount := uint16(0)
	if !ok {
		flags |= 3 // NXDOMAIN
	} else if qtype == 1 {
		ancount = 1
	}
	resp = binary.BigEndian.AppendUint16(resp, flags)
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, ancount)
	resp = append(resp, 0, 0, 0, 0)
	resp = append(resp, question...)
	if ancount == 1 {
		resp = append(resp, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, ip.To4()...)
	}
	return resp
}

func TestDNSProbe(t *testing.T) {
	server := dnsServer(t, map[string]net.IP{"www.phoenix.test": net.ParseIP("192.0.2.7")})
	p := NewProber()
	cases := []struct {
		name    string
		url     string
		conds   []string
		ok      bool
		errLike string
	}{
		{"resolves", "dns://" + server + "/www.phoenix.test?type=A", []string{"[IP] == 192.0.2.7", "[CONNECTED] == true"}, true, ""},
		{"wrong address", "dns://" + server + "/www.phoenix.test?type=A", []string{"[IP] == 192.0.2.8"}, false, "condition failed"},
		{"nxdomain", "dns://" + server + "/nope.phoenix.test?type=A", nil, false, "dns: no such host"},
		{"bad type", "dns://" + server + "/www.phoenix.test?type=SRV", nil, false, "not A, AAAA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tgt, err := Target{Name: "dns", URL: tc.url, Timeout: 2 * time.Second}.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if tc.conds != nil {
				tgt.Conditions = conds(t, tc.conds...)
			}
			tgt.Retries = 0
			r := p.Probe(context.Background(), tgt)
			if r.Success != tc.ok || !strings.Contains(r.Error, tc.errLike) {
				t.Fatalf("success %v error %q", r.Success, r.Error)
			}
		})
	}
}
